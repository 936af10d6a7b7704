/**
 * The SQS adapter against a real endpoint (fauxqs): per-entry results by message id, exactly one
 * DLQ copy per message with its reason (1 MiB bodies included), the DLQ checked at start (beside
 * the PIPELINE, whose error comes first).
 */
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import PQueue from 'p-queue';
import type { DeadLetter } from '../../machines/types.ts';
import { batchIds, MAX_MESSAGE_BYTES, messageBytes, SqsQueue, toDlqCopy } from '../../src/processor/sqs/queue.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { drainQueue, queueDepth, startTestEndpoint, startTestProcessor, type TestEndpoint } from '../support/sqs.ts';

function adapter(sqs: TestEndpoint, dlqUrl?: string) {
  return new SqsQueue({ client: sqs.client, queueUrl: sqs.queueUrl, dlqUrl, limiter: new PQueue({ concurrency: 4 }), visibilityTimeoutSeconds: 30 });
}

const never = new AbortController().signal;

async function sendAll(sqs: TestEndpoint, bodies: readonly string[]) {
  for (const body of bodies) await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
}

async function receiveAll(queue: SqsQueue, count: number) {
  const got = [];
  while (got.length < count) got.push(...(await queue.receive(10, 1, never)));
  return got;
}

test('batch entry Ids are the message ids, or stand-ins SQS accepts, mapped back', (t) => {
  const { ids, byId } = batchIds(['5f0c6a0e-1b2c-4d5e-8f90-123456789abc', 'odd/id:with.dots', 'odd/id:with.dots', 'x'.repeat(100)]);
  t.is(ids[0], '5f0c6a0e-1b2c-4d5e-8f90-123456789abc');
  for (const id of ids) t.regex(id, /^[A-Za-z0-9_-]{1,80}$/);
  t.is(new Set(ids).size, 4, 'distinct even for repeated message ids');
  t.deepEqual(
    ids.map((id) => byId.get(id)),
    ['5f0c6a0e-1b2c-4d5e-8f90-123456789abc', 'odd/id:with.dots', 'odd/id:with.dots', 'x'.repeat(100)],
  );
});

test('visibility calls answer the failed entries by message id; the others succeed', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const queue = adapter(sqs);
  await queue.prepare();
  await sendAll(sqs, ['a', 'b', 'c']);
  const messages = await receiveAll(queue, 3);
  const stale = { messageId: messages[1].messageId, receiptHandle: 'not-a-receipt-handle' };
  const extended = await queue.changeVisibility([messages[0], stale, messages[2]], 60, never);
  t.deepEqual(
    extended.failed.map((f) => f.messageId),
    [messages[1].messageId],
  );
  // SQS (and fauxqs) accept a delete with a stale handle silently: deletes' partial failures are in the unit tests.
  t.deepEqual((await queue.deleteMessages([messages[0], messages[1], messages[2]], never)).failed, []);
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
});

test('a 1 MiB invalid body among 9 small ones: each exactly once in the DLQ, each with error_code, all gone from the PIPELINE', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const queue = adapter(sqs);
  await queue.prepare();
  const big = `{"type":"referrer","created_at":1764000000000,"url":"${'a'.repeat(MAX_MESSAGE_BYTES - 200)}"}`;
  t.true(Buffer.byteLength(big) > MAX_MESSAGE_BYTES - 200 && Buffer.byteLength(big) <= MAX_MESSAGE_BYTES);
  const bodies = [big, ...Array.from({ length: 9 }, (_, i) => `not json ${i}`)];
  await sendAll(sqs, bodies);
  const messages = await receiveAll(queue, 10);
  const letters: DeadLetter[] = messages.map((m) => ({
    ...m,
    reason:
      m.body === big
        ? { code: 'body_too_large', message: 'body is 1048376 bytes, over the 8192 byte limit' }
        : { code: 'malformed_json', message: 'body is not valid JSON' },
  }));
  const result = await queue.deadLetter(letters, () => 60, never);
  t.is(result.sent.length, 10);
  t.deepEqual(result.notSent, []);
  t.deepEqual(result.notDeleted, []);
  t.is(result.sent.find((s) => s.messageId === messages.find((m) => m.body === big)!.messageId)?.reasonKept, 'trimmed');
  const dead = await drainQueue(sqs.client, sqs.dlqUrl);
  t.is(dead.length, 10, 'one copy each');
  t.deepEqual(dead.map((m) => m.Body).sort(), [...bodies].sort());
  for (const m of dead) t.truthy(m.MessageAttributes?.error_code?.StringValue, 'error_code on every copy');
  t.is(dead.find((m) => m.Body === big)?.MessageAttributes?.error_code?.StringValue, 'body_too_large');
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
});

test('a body with no room for any attribute goes alone: the reason is kept for the log line', (t) => {
  const body = 'x'.repeat(MAX_MESSAGE_BYTES);
  const copy = toDlqCopy({ messageId: 'm', receiptHandle: 'r', receiveCount: 1, body, reason: { code: 'body_too_large', message: 'too large' } });
  t.is(copy.reasonKept, 'log-only');
  t.is(copy.entry.MessageBody, body, 'the body is kept whole');
  const roomy = toDlqCopy({
    messageId: 'm',
    receiptHandle: 'r',
    receiveCount: 1,
    body: 'x'.repeat(MAX_MESSAGE_BYTES - 40),
    reason: { code: 'body_too_large', message: 'too large to say it all' },
  });
  t.is(roomy.reasonKept, 'trimmed');
  t.is(roomy.entry.MessageAttributes?.error_code?.StringValue, 'body_too_large', 'error_code kept where it fits');
  t.true(messageBytes(roomy.entry.MessageBody!, roomy.entry.MessageAttributes) <= MAX_MESSAGE_BYTES);
});

test('a configured DLQ that does not exist stops the start with one clear line', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const missing = sqs.dlqUrl.replace(/[^/]+$/, 'no-such-dlq');
  const error = await t.throwsAsync(adapter(sqs, missing).prepare());
  t.is(error?.message, `TRAFFIC_DLQ_URL=${missing} names a queue that does not exist: create it or fix the URL`);
});

test('with a configured DLQ, the start-up checks of the PIPELINE and of the DLQ are one round trip, not two', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  // Each call waits 50 ms before it is sent: calls that overlap are seen in flight together.
  let inFlight = 0;
  let mostAtOnce = 0;
  sqs.client.middlewareStack.add(
    (next) => async (args) => {
      inFlight += 1;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return await next(args);
      } finally {
        inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'countInFlight' },
  );
  const facts = await adapter(sqs, sqs.dlqUrl).prepare();
  t.is(facts.dlqUrl, sqs.dlqUrl);
  t.is(mostAtOnce, 2, 'GetQueueAttributes and GetQueueUrl in flight together');
});

test('when both the PIPELINE and the configured DLQ are missing, the start names the PIPELINE', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const queue = new SqsQueue({
    client: sqs.client,
    queueUrl: sqs.queueUrl.replace(/[^/]+$/, 'no-such-queue'),
    dlqUrl: sqs.dlqUrl.replace(/[^/]+$/, 'no-such-dlq'),
    limiter: new PQueue({ concurrency: 4 }),
  });
  const error = await t.throwsAsync(queue.prepare());
  t.regex(error?.message ?? '', /^queue .*no-such-queue does not exist: check TRAFFIC_QUEUE_URL$/);
});

test('while the DLQ is gone, messages wait on the PIPELINE (hidden, not deleted) and reach it once, with their reason, when it is back', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const queue = adapter(sqs);
  await queue.prepare();
  await sendAll(sqs, ['bad 1', 'bad 2']);
  const reason = { code: 'malformed_json' as const, message: 'body is not valid JSON' };
  const first = await receiveAll(queue, 2);
  await sqs.client.send(new DeleteQueueCommand({ QueueUrl: sqs.dlqUrl }));
  const down = await queue.deadLetter(
    first.map((m) => ({ ...m, reason })),
    () => 1,
    never,
  );
  t.is(down.notSent.length, 2);
  t.is(down.sent.length, 0);
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 2 }, 'still on the PIPELINE, hidden');
  await sqs.client.send(new CreateQueueCommand({ QueueName: sqs.dlqUrl.split('/').at(-1)! }));
  const again = await receiveAll(queue, 2);
  const up = await queue.deadLetter(
    again.map((m) => ({ ...m, reason })),
    () => 1,
    never,
  );
  t.is(up.sent.length, 2);
  const dead = await drainQueue(sqs.client, sqs.dlqUrl);
  t.deepEqual(dead.map((m) => m.Body).sort(), ['bad 1', 'bad 2']);
  for (const m of dead) t.is(m.MessageAttributes?.error_code?.StringValue, 'malformed_json');
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
});

test('the processor given a missing DLQ stops at start instead of running', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const missing = sqs.dlqUrl.replace(/[^/]+$/, 'no-such-dlq');
  const processor = startTestProcessor({ ...sqs, dlqUrl: missing }, createRecordingStorage());
  const output = await processor.done;
  t.is(output.status, 'failed');
  t.regex(String(output.error), /TRAFFIC_DLQ_URL=.*no-such-dlq names a queue that does not exist/);
});

test('dead-lettering without a start-up check first finds the DLQ from the redrive policy on first use', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const queue = adapter(sqs);
  await sendAll(sqs, ['not json']);
  const [message] = await receiveAll(queue, 1);
  const result = await queue.deadLetter([{ ...message, reason: { code: 'malformed_json', message: 'body is not valid JSON' } }], () => 60, never);
  t.deepEqual(
    result.sent.map((s) => s.messageId),
    [message.messageId],
  );
  const dead = await drainQueue(sqs.client, sqs.dlqUrl);
  t.deepEqual(
    dead.map((m) => m.Body),
    ['not json'],
  );
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 });
});
