/**
 * `npm run queues` (`make [LOCAL=1] queues`): every queue on the endpoint with its visible and in-flight messages
 * (SQS's ApproximateNumberOfMessages and ...NotVisible). No AWS CLI needed.
 */
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { readOptions } from '../support/cli.ts';
import { localQueuesOrExit, unreachable, unreachableMessage } from './target.ts';

const CALL_DEADLINE_MS = 10_000;

readOptions('queues', 'usage: npm run queues', {});

const queues = localQueuesOrExit('queues');
const client = createSqsClient(queues.connection);
const deadline = () => ({ abortSignal: AbortSignal.timeout(CALL_DEADLINE_MS) });

try {
  const { QueueUrls = [] } = await client.send(new ListQueuesCommand({}), deadline());
  if (QueueUrls.length === 0) console.log(`${queues.endpoint}: no queues (npm start creates them)`);
  const rows: string[][] = [['queue', 'visible', 'in flight', 'url']];
  for (const url of QueueUrls.sort()) {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      deadline(),
    );
    rows.push([
      url.slice(url.lastIndexOf('/') + 1),
      Attributes.ApproximateNumberOfMessages ?? '?',
      Attributes.ApproximateNumberOfMessagesNotVisible ?? '?',
      url,
    ]);
  }
  if (QueueUrls.length > 0) {
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    for (const row of rows)
      console.log(
        row
          .map((cell, column) => cell.padEnd(widths[column]))
          .join('  ')
          .trimEnd(),
      );
  }
} catch (error) {
  console.error(`queues: ${unreachable(error) ? unreachableMessage(queues) : (error as Error).message}`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
