import { SendMessageCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import type { Logger } from 'pino';
import { createAgent } from '../../src/agent/agent.ts';
import { createSqsSender } from '../../src/agent/sqs-sender.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { startProcessor } from '../../src/processor/processor.ts';
import { bodyOf } from '../agent/support/agent.ts';
import { startTestQueue } from '../agent/support/sqs.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { CANARY, REJECTED_CLASSES, SQS_REFUSES } from '../support/rejection-table.ts';
import { drainQueue, queueDepth, waitFor } from '../support/sqs.ts';
import { capturedLogger } from '../support/captured-logger.ts';

/** The logger, and its lines so far as text, to search for the canary anywhere in a line. */
function recordingLogger(): { logger: Logger; lines: () => string[] } {
  const captured = capturedLogger('debug');
  return { logger: captured.logger, lines: () => captured.lines.map((line) => JSON.stringify(line)) };
}

test('the agent: every rejected class gets its 4xx and code, nothing reaches the queue, no content echoed', async (t) => {
  const queue = await startTestQueue();
  t.teardown(() => queue.stop());
  const sender = createSqsSender({ queueUrl: queue.queueUrl, endpoint: queue.endpoint, region: 'us-east-1', localCredentials: true });
  t.teardown(() => sender.close());
  const { logger, lines } = recordingLogger();
  const handle = createAgent({ send: sender.send, logger });

  const rows = REJECTED_CLASSES.filter((row) => row.agent !== undefined);
  t.true(rows.length >= 20);
  for (const { name, agent } of rows) {
    const response = await handle(agent!.event);
    const answer = bodyOf(response);
    t.is(`${response.statusCode} ${answer.error as string}`, `${agent!.status} ${agent!.code}`, `${name}: ${answer.details as string}`);
    t.false(response.body.includes(CANARY), `${name}: the answer does not echo the input`);
  }
  t.is(lines().filter((line) => line.includes('visit rejected')).length, rows.length, 'each rejection logged');
  t.deepEqual(
    lines().filter((line) => line.includes(CANARY)),
    [],
    'no log line echoes the input',
  );
  t.deepEqual(await queue.receiveAll(), [], 'nothing enqueued');
});

test('the processor: every rejected class dead-lettered once with its code, nothing written, no content in reasons or logs', async (t) => {
  const queue = await startTestQueue();
  t.teardown(() => queue.stop());
  const rows = REJECTED_CLASSES.filter((row) => row.processor !== undefined);
  t.true(rows.length >= 15);

  const expected = new Map<string, { name: string; code: string }>();
  for (const { name, processor } of rows) {
    const send = queue.client.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: processor!.body }));
    if (processor!.code === SQS_REFUSES) {
      await t.throwsAsync(send, { message: /Invalid characters/ }, `${name}: SQS itself refuses the body`);
      continue;
    }
    const { MessageId } = await send;
    expected.set(MessageId!, { name, code: processor!.code });
  }

  const storage = createRecordingStorage();
  const { logger, lines } = recordingLogger();
  const processor = startProcessor({
    config: loadConfig({ POLLERS: '2', RECEIVE_WAIT_SECONDS: '1' }),
    endpoint: queue.endpoint,
    queueUrl: queue.queueUrl,
    dlqUrl: queue.dlqUrl,
    storage,
    logger,
  });
  await waitFor(async () => (await queueDepth(queue.client, queue.dlqUrl)).visible >= expected.size, 60_000, 'every class to be dead-lettered');
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });

  const dead = await drainQueue(queue.client, queue.dlqUrl);
  t.is(dead.length, expected.size, 'one DLQ copy per message');
  for (const message of dead) {
    const source = message.MessageAttributes?.source_message_id?.StringValue ?? '';
    const row = expected.get(source);
    t.truthy(row, `DLQ copy of a message sent (${source})`);
    t.is(message.MessageAttributes?.error_code?.StringValue, row?.code, row?.name);
    const reason = message.MessageAttributes?.error_message?.StringValue ?? '';
    t.true(reason.length > 0, `${row?.name}: a reason`);
    t.false(reason.includes(CANARY), `${row?.name}: the reason does not quote the body (${reason})`);
  }
  t.is(storage.rows.size, 0, 'nothing written');
  t.deepEqual(
    lines().filter((line) => line.includes(CANARY)),
    [],
    'no log line echoes a body',
  );
  t.deepEqual(await queueDepth(queue.client, queue.queueUrl), { visible: 0, invisible: 0 }, 'PIPELINE empty');
});
