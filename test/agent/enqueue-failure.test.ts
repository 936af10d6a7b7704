/**
 * When SQS fails: API Gateway callers get a bare 500, direct invokes a bare thrown error
 * (so Lambda retries an async invoke and then keeps it in the function's DLQ); the cause is
 * logged, never answered.
 */
import test from 'ava';
import pino from 'pino';
import { createAgent, EnqueueError } from '../../src/agent/agent.ts';
import { createSqsSender } from '../../src/agent/sqs-sender.ts';
import { bodyOf, recordingAgent } from './support/agent.ts';
import { direct, httpEvent, restEvent } from '../../scripts/traffic/events.ts';
import { closedPort, startTestQueue } from './support/sqs.ts';

const INTERNAL = 'connect ECONNREFUSED 10.20.30.40:443 (sqs-vpce-internal.example)';
const failing = async () => {
  throw Object.assign(new Error(INTERNAL), { name: 'TimeoutError', $metadata: { requestId: 'internal-request-id' } });
};

for (const [name, event] of [
  ['REST', restEvent('GET', { query: { type: 'type-in' } })],
  ['HTTP', httpEvent('POST', { body: '{"type":"referrer","url":"test.com"}' })],
] as const) {
  test(`${name} API event, SQS fails: 500 with nothing internal, cause logged`, async (t) => {
    const { handle, logs } = recordingAgent({ send: failing });
    const response = await handle(event, { awsRequestId: '11111111-2222-4333-8444-555555555555' });
    t.is(response.statusCode, 500);
    t.deepEqual(bodyOf(response), { error: 'internal_error', details: 'the visit could not be recorded; retry later' });
    for (const secret of ['ECONNREFUSED', '10.20.30.40', 'sqs-vpce', 'internal-request-id', 'TimeoutError', 'stack']) {
      t.false(response.body.includes(secret), `body does not mention ${secret}`);
    }
    const logged = logs.find((line) => line.msg === 'visit could not be enqueued');
    t.is(logged?.level, 50, 'logged at error level');
    t.is((logged?.err as { message?: string } | undefined)?.message, INTERNAL, 'the cause is in the log');
    t.is(logged?.requestId, '11111111-2222-4333-8444-555555555555');
  });
}

test('direct invoke, SQS fails: a bare EnqueueError is thrown so Lambda can retry and dead-letter it', async (t) => {
  const { handle, logs } = recordingAgent({ send: failing });
  const error = await t.throwsAsync(handle(direct({ type: 'referrer', url: 'test.com' })), { instanceOf: EnqueueError });
  t.is(error?.message, 'the visit could not be recorded; retry later');
  t.is((error as EnqueueError).statusCode, 500);
  t.false(JSON.stringify({ message: error?.message, name: error?.name }).includes('ECONNREFUSED'));
  t.true(
    logs.some((line) => line.level === 50),
    'the cause is logged',
  );
});

test('a queue slower than the Lambda deadline is abandoned before it, with a 500', async (t) => {
  let reason: unknown;
  const hanging = (_message: unknown, signal: AbortSignal | undefined) =>
    new Promise<void>((_resolve, reject) => {
      if (!signal) return reject(new Error('no deadline signal given'));
      signal.addEventListener('abort', () => {
        reason = signal.reason;
        reject(signal.reason);
      });
    });
  const { handle } = recordingAgent({ send: hanging });
  const response = await handle(restEvent('GET', { query: { type: 'type-in' } }), { awsRequestId: 'r', getRemainingTimeInMillis: () => 800 });
  t.is(response.statusCode, 500);
  // The abort says which budget ended the send: the 800 ms left less the margin kept for the answer.
  t.is((reason as Error | undefined)?.message, 'SQS did not answer within 300 ms', 'abandoned at its budget, before the 800 ms deadline');
});

test('a real SQS error (the queue does not exist on a fauxqs endpoint): 500, nothing leaked', async (t) => {
  const queue = await startTestQueue();
  t.teardown(() => queue.stop());
  const missing = queue.queueUrl.replace(/[^/]+$/, 'no-such-queue');
  const sender = createSqsSender({ queueUrl: missing, endpoint: queue.endpoint, region: 'us-east-1', localCredentials: true });
  t.teardown(() => sender.close());
  const handle = createAgent({ send: sender.send, logger: pino({ level: 'silent' }) });
  const response = await handle(httpEvent('GET', { query: { type: 'referrer', url: 'test.com' } }));
  t.is(response.statusCode, 500);
  t.false(/queue|exist|fauxqs|127\.0\.0\.1/i.test(response.body), response.body);
  t.deepEqual(await queue.receiveAll(), [], 'nothing reached the real queue either');
});

test('an SQS endpoint that is down: 500 for an API event, thrown for a direct invoke', async (t) => {
  const port = await closedPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const sender = createSqsSender({ queueUrl: `${endpoint}/000000000000/q`, endpoint, region: 'us-east-1', localCredentials: true });
  t.teardown(() => sender.close());
  const handle = createAgent({ send: sender.send, logger: pino({ level: 'silent' }) });
  const response = await handle(restEvent('GET', { query: { type: 'type-in' } }));
  t.is(response.statusCode, 500);
  t.false(response.body.includes(String(port)));
  await t.throwsAsync(handle(direct({ type: 'type-in', ip: '127.0.0.1' })), { instanceOf: EnqueueError });
});
