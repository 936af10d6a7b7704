import test from 'ava';
import { backoffDelay } from '../../machines/backoff.ts';
import { CreditPool } from '../../machines/credit-pool.ts';
import { visitType } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { type RefusedCase, testRefusedConfigs } from '../support/refused-config.ts';

test('defaults load with nothing set', (t) => {
  const config = loadConfig({});
  t.is(config.storageBackend, 'mysql');
  t.is(config.queueUrl, undefined);
  t.true(config.heartbeatSeconds < config.visibilityTimeoutSeconds);
});

const bad: RefusedCase[] = [
  [{ POLLERS: 'many' }, /^POLLERS="many" is invalid: expected an integer from 1 to 256$/],
  [{ POLLERS: '0' }, /^POLLERS="0"/],
  [{ RECEIVE_WAIT_SECONDS: '21' }, /RECEIVE_WAIT_SECONDS.*1 to 20/],
  [{ RECEIVE_WAIT_SECONDS: '0' }, /^RECEIVE_WAIT_SECONDS="0" is invalid: expected an integer from 1 to 20$/],
  [{ SQS_LEAN_CALLS: 'yes' }, /^SQS_LEAN_CALLS="yes" is not allowed: use on \(default\) or off$/],
  [{}, /^tuning.retryMaxMs=1 is invalid: it must be at least tuning.retryBaseMs \(600000\)/, { retryBaseMs: 600_000, retryMaxMs: 1 }],
  [{ TRAFFIC_DLQ_URL: 'http://127.0.0.1:4566/000000000000/dlq' }, /^TRAFFIC_DLQ_URL is set but TRAFFIC_QUEUE_URL is not/],
  [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, /^AWS_ENDPOINT_URL is set but TRAFFIC_QUEUE_URL is not/],
  [{ METRICS_PORT: '4566' }, /^METRICS_PORT=4566 is invalid: the embedded SQS endpoint listens on that port/],
  [
    { TRAFFIC_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/q', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', EMBEDDED_SQS_PORT: '4567' },
    /^EMBEDDED_SQS_PORT is set but so is TRAFFIC_QUEUE_URL/,
  ],
  [{ STORAGE_BACKEND: 'postgres' }, /^STORAGE_BACKEND="postgres" is invalid: expected one of mysql, cassandra$/],
  [{ TRAFFIC_QUEUE_URL: 'not a url' }, /^TRAFFIC_QUEUE_URL=.*http\(s\) URL$/],
  [{ VISIBILITY_TIMEOUT_SECONDS: '30' }, /^VISIBILITY_TIMEOUT_SECONDS=30 is invalid: it must exceed the heartbeat \(30 s\)/, { heartbeatSeconds: 30 }],
  [{ BATCH_SIZE: '500', MAX_IN_FLIGHT: '100' }, /^MAX_IN_FLIGHT=100 is invalid/],
];
test('valid neighbours of the refused values load', (t) => {
  t.is(loadConfig({}, { statsIntervalMs: 0 }).statsIntervalMs, 0, 'stats off');
  t.false(loadConfig({ SQS_LEAN_CALLS: 'off' }).leanCalls);
  t.true(loadConfig({}).leanCalls);
  t.is(loadConfig({}, { retryBaseMs: 500, retryMaxMs: 500 }).retryMaxMs, 500);
  t.is(loadConfig({ RECEIVE_WAIT_SECONDS: '1' }).receiveWaitSeconds, 1);
  const remote = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', TRAFFIC_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/q' };
  t.is(loadConfig({ ...remote, TRAFFIC_DLQ_URL: 'http://127.0.0.1:4566/000000000000/dlq' }).dlqUrl, 'http://127.0.0.1:4566/000000000000/dlq');
  t.is(loadConfig({ ...remote, METRICS_PORT: '4566' }).metricsPort, 4_566, 'no embedded endpoint: no clash');
});

testRefusedConfigs(bad, (env, tuning) => `rejects ${JSON.stringify({ ...env, ...tuning })} with one clear line`);

test('credits bound what is in flight and wake waiters in order', async (t) => {
  const pool = new CreditPool(20, Date.now);
  t.is(await pool.acquire(10), 10);
  t.is(await pool.acquire(10), 10);
  const order: string[] = [];
  const first = pool.acquire(10).then((n) => order.push(`first:${n}`));
  const second = pool.acquire(10).then((n) => order.push(`second:${n}`));
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(order, [], 'no credit, no grant');
  pool.giveBack(4);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(order, [], 'a waiter needs a full receive worth');
  pool.giveBack(16);
  await Promise.all([first, second]);
  t.deepEqual(order, ['first:10', 'second:10']);
  t.is(pool.inFlight, 20);
  const aborted = new AbortController();
  const waiting = pool.acquire(10, aborted.signal);
  aborted.abort(new Error('stop'));
  await t.throwsAsync(waiting, { message: 'stop' });
  pool.giveBack(20);
  t.is(pool.available, 20, 'an aborted waiter takes nothing');
});

test('backoff doubles per attempt within jitter and is capped', (t) => {
  const options = { baseMs: 100, maxMs: 1_000 };
  // The random source at its two ends: the least and the most jitter allows.
  const least = () => 0;
  const most = () => 1;
  t.is(backoffDelay(1, options, least), 50);
  t.is(backoffDelay(1, options, most), 100);
  t.is(backoffDelay(3, options, least), 200);
  t.is(backoffDelay(30, options, most), 1_000);
  t.is(backoffDelay(30, options, least), 500);
});

const capture = () => capturedLogger('info');

const visits = [
  { visitId: 'a', type: 'type-in' as const, createdAt: 1, ip: '10.0.0.1' },
  { visitId: 'b', type: 'type-in' as const, createdAt: 2 },
];

/** The one line an adapter logs for a batch of `visits`. */
async function writeLine(backend: 'mysql' | 'cassandra'): Promise<Record<string, unknown>> {
  const { lines, logger } = capture();
  await createStorage(backend, logger).writeBatch(visitType('type-in'), visits, new AbortController().signal);
  await new Promise((resolve) => setImmediate(resolve));
  if (lines.length !== 1) throw new Error(`${backend}: ${lines.length} lines for one batch`);
  return lines[0];
}

const ROWS = [
  { visit_id: 'a', created_at: 1, ip: '10.0.0.1' },
  { visit_id: 'b', created_at: 2, ip: null },
];

test('the MySQL adapter logs one upsert per batch with its rows', async (t) => {
  const line = await writeLine('mysql');
  t.like(line, { msg: 'write', backend: 'mysql', table: 'traffic_type_in', prepared: false, executions: 1, concurrent: false });
  t.is(
    line.statement,
    'INSERT INTO `traffic_type_in` (`visit_id`, `created_at`, `ip`) VALUES (?, ?, ?), (?, ?, ?) ' +
      'AS `new` ON DUPLICATE KEY UPDATE `created_at` = `new`.`created_at`, `ip` = `new`.`ip`',
  );
  t.deepEqual(line.rows, ROWS);
});

test('the Cassandra adapter logs one prepared INSERT run once per row, concurrently, never a multi-partition batch', async (t) => {
  const line = await writeLine('cassandra');
  t.like(line, { msg: 'write', backend: 'cassandra', table: 'traffic_type_in', prepared: true, executions: 2, concurrent: true });
  t.is(line.statement, 'INSERT INTO traffic.traffic_type_in (visit_id, created_at, ip) VALUES (?, ?, ?)');
  t.deepEqual(line.rows, ROWS);
});
