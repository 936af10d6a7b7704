/**
 * The Lambda entry point itself, against a real SQS endpoint: configuration from the
 * environment, read once per container; the message and its visit_type attribute on the queue.
 */
import test from 'ava';
import { parseVisitBody } from '../../src/contract/visit.ts';
import { direct, httpEvent } from '../../scripts/traffic/events.ts';
import { startTestQueue, type TestQueue } from './support/sqs.ts';

process.env.LOG_LEVEL = 'silent';
delete process.env.TRAFFIC_QUEUE_URL;
delete process.env.AWS_ENDPOINT_URL;
delete process.env.AWS_ENDPOINT_URL_SQS;
const { handler } = await import('../../src/agent/handler.ts');

let queue: TestQueue;
test.before(async () => {
  queue = await startTestQueue();
});
test.after.always(async () => {
  await queue?.stop();
});

test.serial('without TRAFFIC_QUEUE_URL every invocation fails with one line naming it', async (t) => {
  const error = await t.throwsAsync(handler(direct({ type: 'referrer', url: 'test.com' })));
  t.is(error?.name, 'AgentConfigError');
  t.regex(error!.message, /^TRAFFIC_QUEUE_URL is not set/);
  await t.throwsAsync(handler(httpEvent('GET', { query: { type: 'referrer', url: 'test.com' } })), { message: /TRAFFIC_QUEUE_URL/ });
});

test.serial('with the environment set, visits reach the queue with their visit_type attribute', async (t) => {
  process.env.TRAFFIC_QUEUE_URL = queue.queueUrl;
  process.env.AWS_ENDPOINT_URL = queue.endpoint;
  const responses = [
    await handler(direct({ type: 'direct', ip: '127.0.0.1' })),
    await handler(httpEvent('GET', { query: { type: 'referrer', url: 'test.com' }, sourceIp: '198.51.100.1' })),
  ];
  t.deepEqual(
    responses.map((r) => r.statusCode),
    [202, 202],
  );
  const ids = responses.map((r) => JSON.parse(r.body).visit_id as string);
  const messages = await queue.receiveAll();
  t.is(messages.length, 2);
  const byId = new Map(messages.map((m) => [JSON.parse(m.Body!).visit_id as string, m]));
  const typeIn = byId.get(ids[0]!)!;
  const referrer = byId.get(ids[1]!)!;
  t.is(typeIn.MessageAttributes?.visit_type?.StringValue, 'type-in');
  t.is(typeIn.MessageAttributes?.visit_type?.DataType, 'String');
  t.is(referrer.MessageAttributes?.visit_type?.StringValue, 'referrer');
  const parsed = parseVisitBody(typeIn.Body, typeIn.MessageId!);
  t.true(parsed.ok && parsed.visit.type === 'type-in' && parsed.visit.ip === '127.0.0.1', typeIn.Body);
  const parsedReferrer = parseVisitBody(referrer.Body, referrer.MessageId!);
  t.true(parsedReferrer.ok && parsedReferrer.visit.url === 'test.com', referrer.Body);
});

test.serial('the configuration and client are kept for the container: a later change of environment is not read', async (t) => {
  process.env.TRAFFIC_QUEUE_URL = 'http://127.0.0.1:9/000000000000/elsewhere';
  const response = await handler(direct({ type: 'referrer', url: 'kept.example' }));
  t.is(response.statusCode, 202);
  const messages = await queue.receiveAll();
  t.is(messages.length, 1, 'sent to the queue configured at the first invocation');
  t.is(JSON.parse(messages[0]!.Body!).url, 'kept.example');
});

test.serial('a handler made for a given environment reads that one, not process.env (the local tools change no global)', async (t) => {
  const { createHandler } = await import('../../src/agent/handler.ts');
  const before = { ...process.env };
  process.env.TRAFFIC_QUEUE_URL = 'http://127.0.0.1:9/000000000000/not-this-one';
  t.teardown(() => {
    if (before.TRAFFIC_QUEUE_URL === undefined) delete process.env.TRAFFIC_QUEUE_URL;
    else process.env.TRAFFIC_QUEUE_URL = before.TRAFFIC_QUEUE_URL;
  });
  const local = createHandler({ TRAFFIC_QUEUE_URL: queue.queueUrl, AWS_ENDPOINT_URL_SQS: queue.endpoint, LOG_LEVEL: 'silent' });
  const response = await local(direct({ type: 'referrer', url: 'given-env.example' }));
  t.is(response.statusCode, 202);
  const messages = await queue.receiveAll();
  t.deepEqual(
    messages.map((m) => JSON.parse(m.Body!).url),
    ['given-env.example'],
  );
  await t.throwsAsync(createHandler({ LOG_LEVEL: 'silent' })(direct({ type: 'referrer', url: 'x.example' })), { message: /^TRAFFIC_QUEUE_URL is not set/ });
});
