/**
 * `npm run redrive`: moves messages from the DLQ back to the PIPELINE (bodies unchanged,
 * rejection attributes dropped), deleting each from the DLQ only after the PIPELINE took it.
 * Works on any endpoint (fauxqs, LocalStack, AWS); on AWS `aws sqs start-message-move-task`
 * does the same server-side. Moves at most what the DLQ held when it started (and --max), so
 * a message dead-lettered again meanwhile (still invalid) is not moved round in a loop.
 * Sends are batched by bytes as well as by count (SQS refuses a batch over 1 MiB in total).
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ConfigError, sqsConnection, type SqsConnection } from '../src/platform/config.ts';
import { createSqsClient } from '../src/platform/sqs.ts';
import { sameQueue } from '../src/platform/sqs-target.ts';
import { chunkByBytes } from '../src/processor/sqs-queue.ts';
import { PIPELINE_DLQ_NAME, PIPELINE_QUEUE_NAME } from '../src/queues.ts';
import { readOptions } from './support/cli.ts';

const cli = readOptions('redrive', 'usage: npm run redrive [-- --max N]   (N: at most this many messages, default 10000)', {
  max: { type: 'string', default: '10000' },
});
const max = cli.wholeNumber('max', cli.values.max, 1);
// The endpoint defaults to the embedded one (`npm start`).
let connection: SqsConnection;
try {
  connection = sqsConnection({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', ...process.env });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`redrive: ${error.message}`);
  process.exit(2);
}
const endpoint = connection.endpoint;
const queueUrl = process.env.TRAFFIC_QUEUE_URL ?? `${endpoint}/000000000000/${PIPELINE_QUEUE_NAME}`;
const dlqUrl = process.env.TRAFFIC_DLQ_URL ?? `${endpoint}/000000000000/${PIPELINE_DLQ_NAME}`;
if (sameQueue(queueUrl, dlqUrl, connection.region)) {
  console.error(`redrive: TRAFFIC_DLQ_URL=${dlqUrl} names the same queue as TRAFFIC_QUEUE_URL (${queueUrl}): nothing to move; set the DLQ's URL`);
  process.exit(2);
}
const client = createSqsClient(connection);

let moved = 0;
try {
  const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  const limit = Math.min(max, Number(Attributes.ApproximateNumberOfMessages ?? 0));
  while (moved < limit) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: Math.min(10, limit - moved), WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) break;
    // Batches within SQS's limits (10 entries, 1 MiB in all); an entry's Id is its index in Messages.
    for (const batch of chunkByBytes(Messages.map((message, i) => ({ Id: String(i), MessageBody: message.Body ?? '' })))) {
      const sent = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
      const ok = (sent.Successful ?? []).map((s) => Messages[Number(s.Id)]!);
      if (ok.length > 0) {
        await client.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
      moved += ok.length;
      // What was not moved stays on the DLQ and is visible again after its visibility timeout.
      if (sent.Failed?.length) throw new Error(`the PIPELINE refused ${sent.Failed.length} message(s): ${sent.Failed[0].Code ?? sent.Failed[0].Message}`);
    }
  }
  console.log(`moved ${moved} message(s) from ${dlqUrl} to ${queueUrl}`);
} catch (error) {
  console.error(`redrive: ${(error as Error).message} (moved ${moved} before that)`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
