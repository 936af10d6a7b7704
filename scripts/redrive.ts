/**
 * `npm run redrive`: moves messages from the DLQ back to the PIPELINE (bodies unchanged,
 * rejection attributes dropped), deleting each from the DLQ only after the PIPELINE took it.
 * Works on any endpoint (fauxqs, LocalStack, AWS); on AWS `aws sqs start-message-move-task`
 * does the same server-side. Moves at most what the DLQ held when it started, visible or in
 * flight (and --max), so a message dead-lettered again meanwhile (still invalid) is not moved
 * round in a loop. Messages another reader holds (a peek that did not hand them back) are waited
 * for, up to --wait seconds. Sends are batched by bytes as well as by count (SQS refuses a batch
 * over 1 MiB in total).
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../src/platform/sqs.ts';
import { sameQueue } from '../src/platform/sqs-target.ts';
import { chunkByBytes } from '../src/processor/sqs/queue.ts';
import { localQueuesOrExit, unreachable, unreachableMessage } from './local/target.ts';
import { readOptions } from './support/cli.ts';

/** SQS's longest long poll. */
const MAX_WAIT_PER_RECEIVE_SECONDS = 20;
/** Headroom over a call's own wait before its deadline cuts it. */
const CALL_DEADLINE_MARGIN_MS = 10_000;

const USAGE = `usage: npm run redrive [-- --max N] [--wait S]
  N: at most this many messages, default 10000
  S: how long to wait for messages another reader holds in flight on the DLQ, 0 to 600 seconds, default 30`;
const cli = readOptions('redrive', USAGE, {
  max: { type: 'string', default: '10000' },
  wait: { type: 'string', default: '30' },
});
const max = cli.wholeNumber('max', cli.values.max, 1);
const waitSeconds = cli.wholeNumber('wait', cli.values.wait, 0, 600);

const queues = localQueuesOrExit('redrive');
const { queueUrl, dlqUrl } = queues;
if (sameQueue(queueUrl, dlqUrl, queues.connection.region)) {
  console.error(`redrive: TRAFFIC_DLQ_URL=${dlqUrl} names the same queue as TRAFFIC_QUEUE_URL (${queueUrl}): nothing to move; set the DLQ's URL`);
  process.exit(2);
}
const client = createSqsClient(queues.connection);
const deadline = (waitMs: number) => ({ abortSignal: AbortSignal.timeout(waitMs + CALL_DEADLINE_MARGIN_MS) });

/** The DLQ's visible and in-flight messages. */
async function dlqDepth(): Promise<{ visible: number; invisible: number }> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    deadline(0),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages ?? 0), invisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

let moved = 0;
try {
  const start = await dlqDepth();
  const limit = Math.min(max, start.visible + start.invisible);
  const waitUntil = Date.now() + waitSeconds * 1000;
  // Long-polls only once a receive came back empty: until then the visible messages go first.
  let polling = false;
  let heldElsewhere = 0;
  while (moved < limit) {
    const wait = polling ? Math.min(MAX_WAIT_PER_RECEIVE_SECONDS, Math.max(0, Math.ceil((waitUntil - Date.now()) / 1000))) : 0;
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: Math.min(10, limit - moved), WaitTimeSeconds: wait }),
      deadline(wait * 1000),
    );
    if (Messages.length === 0) {
      const now = await dlqDepth();
      if (now.visible + now.invisible === 0) break;
      if (Date.now() >= waitUntil) {
        heldElsewhere = now.invisible;
        break;
      }
      polling = true;
      continue;
    }
    polling = false;
    // Batches within SQS's limits (10 entries, 1 MiB in all); an entry's Id is its index in Messages.
    for (const batch of chunkByBytes(Messages.map((message, i) => ({ Id: String(i), MessageBody: message.Body ?? '' })))) {
      const sent = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }), deadline(0));
      const ok = (sent.Successful ?? []).map((s) => Messages[Number(s.Id)]!);
      if (ok.length > 0) {
        await client.send(
          new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
          deadline(0),
        );
      }
      moved += ok.length;
      // What was not moved stays on the DLQ and is visible again after its visibility timeout.
      if (sent.Failed?.length) throw new Error(`the PIPELINE refused ${sent.Failed.length} message(s): ${sent.Failed[0].Code ?? sent.Failed[0].Message}`);
    }
  }
  console.log(`moved ${moved} message(s) from ${dlqUrl} to ${queueUrl}`);
  if (heldElsewhere > 0 && moved < limit) {
    console.error(
      `redrive: ${heldElsewhere} message(s) stayed in flight on the DLQ for ${waitSeconds} s (another reader holds them): run it again once they are visible, or with a longer --wait`,
    );
    process.exitCode = 1;
  }
} catch (error) {
  const reason = unreachable(error) ? unreachableMessage(queues) : (error as Error).message;
  console.error(`redrive: ${reason}${moved > 0 ? ` (moved ${moved} before that)` : ''}`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
