/**
 * `npm run enqueue -- '<body>'`: puts one message on the PIPELINE exactly as given, past the
 * agent and its checks, to see what the processor does with it (a body that breaks the contract
 * goes to the DLQ: `npm run dlq`). The embedded default unless AWS_ENDPOINT_URL and
 * TRAFFIC_QUEUE_URL say otherwise. No AWS CLI needed.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { readOptions } from '../support/cli.ts';
import { localQueuesOrExit, unreachable, unreachableMessage } from './target.ts';

const CALL_DEADLINE_MS = 10_000;
const cli = readOptions(
  'enqueue',
  `usage: npm run enqueue -- '<message body>'   for example: npm run enqueue -- '{"type":"banner","created_at":1}'`,
  {},
  { positionals: true },
);
if (cli.positionals.length !== 1) cli.fail('give exactly one message body');
const body = cli.positionals[0]!;

const queues = localQueuesOrExit('enqueue');
const client = createSqsClient(queues.connection);
try {
  const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }), {
    abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS),
  });
  console.log(`enqueued ${MessageId} on ${queues.queueUrl}`);
} catch (error) {
  console.error(`enqueue: ${unreachable(error) ? unreachableMessage(queues) : (error as Error).message}`);
  process.exitCode = 1;
}
client.destroy();
