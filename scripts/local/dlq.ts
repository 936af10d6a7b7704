/**
 * `npm run dlq` (`make [LOCAL=1] dlq`): shows up to --max dead-lettered messages with their reasons and leaves them
 * in the DLQ, visible at once. Each is received under a short lease (so one peek never shows a
 * message twice), then handed back with visibility 0: a redrive or another peek right after
 * finds them all. No AWS CLI needed.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { handBack, peekMessages } from '../support/dlq-peek.ts';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { readOptions } from '../support/cli.ts';
import { localQueuesOrExit, unreachable, unreachableMessage } from './target.ts';

const cli = readOptions('dlq', 'usage: npm run dlq [-- --max N]   (N: at most this many messages, 1 to 100, default 10)', {
  max: { type: 'string', default: '10' },
});
const max = cli.wholeNumber('max', cli.values.max, 1, 100);

const queues = localQueuesOrExit('dlq');
const client = createSqsClient(queues.connection);

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

let held: Message[] = [];
try {
  held = await peekMessages(client, queues.dlqUrl, max);
  console.log(`${queues.dlqUrl}: ${held.length} message(s)${held.length === max ? ` (the first ${max}: --max shows more)` : ''}`);
  for (const message of held) console.log(describe(message));
} catch (error) {
  console.error(`dlq: ${unreachable(error) ? unreachableMessage(queues) : (error as Error).message}`);
  process.exitCode = 1;
}
// Handed back even after a failure: what the peek holds must not stay hidden for its lease.
const problems = await handBack(client, queues.dlqUrl, held);
for (const problem of problems) console.error(`dlq: ${problem}`);
if (problems.length > 0) process.exitCode = 1;
client.destroy();
