/**
 * `npm run dlq` (`make [LOCAL=1] dlq`): shows up to --max dead-lettered messages with their reasons and leaves them
 * in the DLQ, visible at once. Each is received under a short lease (so one peek never shows a
 * message twice), then handed back with visibility 0: a redrive or another peek right after
 * finds them all. No AWS CLI needed.
 */
import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { readOptions } from '../support/cli.ts';
import { LocalTargetError, type LocalQueues, localQueues, unreachable, unreachableMessage } from './target.ts';

/** How long the peek holds what it shows before handing it back; what a failed hand-back costs. */
const PEEK_LEASE_SECONDS = 30;
const CALL_DEADLINE_MS = 10_000;

const cli = readOptions('dlq', 'usage: npm run dlq [-- --max N]   (N: at most this many messages, 1 to 100, default 10)', {
  max: { type: 'string', default: '10' },
});
const max = cli.wholeNumber('max', cli.values.max, 1, 100);

let queues: LocalQueues;
try {
  queues = localQueues(process.env);
} catch (error) {
  if (!(error instanceof LocalTargetError)) throw error;
  console.error(`dlq: ${error.message}`);
  process.exit(2);
}
const client = createSqsClient(queues.connection);
const deadline = () => ({ abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) });

/** One line per message: what a person reads first (the reason), then the body as it was sent. */
function describe(message: Message): string {
  const attributes = message.MessageAttributes ?? {};
  return JSON.stringify({
    MessageId: message.MessageId,
    error_code: attributes.error_code?.StringValue,
    error_message: attributes.error_message?.StringValue,
    ApproximateReceiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    Body: message.Body,
  });
}

/** Makes `messages` visible again at once; says so in one line for a batch it could not hand back. */
async function handBack(messages: readonly Message[]): Promise<boolean> {
  let all = true;
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    let reason: string | undefined;
    try {
      const answer = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queues.dlqUrl,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
        deadline(),
      );
      if (answer.Failed?.length) reason = `${answer.Failed.length} refused: ${answer.Failed[0].Code ?? answer.Failed[0].Message}`;
    } catch (error) {
      reason = (error as Error).message;
    }
    if (reason !== undefined) {
      console.error(`dlq: could not hand ${batch.length} message(s) back (${reason}): they are visible again within ${PEEK_LEASE_SECONDS} s`);
      all = false;
    }
  }
  return all;
}

const held: Message[] = [];
try {
  while (held.length < max) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - held.length),
        VisibilityTimeout: PEEK_LEASE_SECONDS,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      deadline(),
    );
    if (Messages.length === 0) break;
    held.push(...Messages);
  }
  console.log(`${queues.dlqUrl}: ${held.length} message(s)${held.length === max ? ` (the first ${max}: --max shows more)` : ''}`);
  for (const message of held) console.log(describe(message));
} catch (error) {
  console.error(`dlq: ${unreachable(error) ? unreachableMessage(queues) : (error as Error).message}`);
  process.exitCode = 1;
}
// Handed back even after a failure: what the peek holds must not stay hidden for its lease.
if (!(await handBack(held))) process.exitCode = 1;
client.destroy();
