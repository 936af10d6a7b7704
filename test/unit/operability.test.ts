/** Health assessment, Prometheus metrics fed by machine reports, and the HTTP endpoint serving both. */
import test from 'ava';
import { CreditPool } from '../../machines/credit-pool.ts';
import { assessHealth } from '../../src/processor/runtime/health.ts';
import { startHttpServer } from '../../src/processor/runtime/http-server.ts';
import { createMetrics } from '../../src/processor/runtime/metrics.ts';

const base = { supervisorState: 'running', pollers: ['poller-1', 'poller-2'], startedAt: 0, now: 100_000, maxSilenceMs: 60_000 };

test('healthy while running and every poller receives', (t) => {
  t.deepEqual(assessHealth({ ...base, lastReceiveAt: { 'poller-1': 90_000, 'poller-2': 99_000 } }), { ok: true, state: 'running', problems: [] });
});

test('unhealthy when a poller is silent too long or the supervisor is not running', (t) => {
  const silent = assessHealth({ ...base, lastReceiveAt: { 'poller-1': 90_000, 'poller-2': 20_000 } });
  t.false(silent.ok);
  t.deepEqual(silent.problems, ['poller-2 has not completed a receive for 80 s']);
  const draining = assessHealth({ ...base, supervisorState: 'draining', lastReceiveAt: { 'poller-1': 99_000, 'poller-2': 99_000 } });
  t.false(draining.ok);
  t.deepEqual(draining.problems, ['supervisor is draining, not running']);
});

test('metrics count reports, observe latency from created_at, and serve over HTTP with /healthz', async (t) => {
  const metrics = createMetrics(() => 10_000);
  const credits = new CreditPool(100, Date.now);
  await credits.acquire(10);
  metrics.attach(credits);
  metrics.observe({ kind: 'received', poller: 'poller-1', count: 3 });
  metrics.observe({ kind: 'written', type: 'referrer', count: 2, attempts: 1, createdAt: [9_000, 9_500] });
  metrics.observe({
    kind: 'dead-lettered',
    source: 'poller-1',
    letters: [{ messageId: 'm', reason: { code: 'malformed_json', message: 'bad' }, reasonKept: 'full' }],
  });
  metrics.observe({
    kind: 'entries-failed',
    call: 'extend',
    source: 'referrer',
    failures: [
      { messageId: 'm1', code: 'ReceiptHandleIsInvalid' },
      { messageId: 'm2', code: 'ReceiptHandleIsInvalid' },
    ],
  });
  metrics.observe({ kind: 'entries-failed', call: 'dlq-send', source: 'poller-1', failures: [{ messageId: 'm3', code: 'QueueDoesNotExist' }] });
  metrics.observe({ kind: 'write-failed', type: 'referrer', count: 2, attempt: 1, willRetry: true, delayMs: 100, error: new Error('x') });
  metrics.observe({ kind: 'acknowledged', type: 'referrer', count: 10, failed: 2 });
  metrics.observe({ kind: 'acknowledge-failed', type: 'type-in', count: 5, error: new Error('x') });

  let healthy = true;
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    registry: metrics.registry,
    health: () => ({ ok: healthy, state: healthy ? 'running' : 'draining', problems: healthy ? [] : ['supervisor is draining, not running'] }),
  });
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.regex(text, /^traffic_received_total 3$/m);
  t.regex(text, /^traffic_acknowledge_failures_total\{type="referrer"\} 2$/m);
  t.regex(text, /^traffic_acknowledge_failures_total\{type="type-in"\} 5$/m);
  t.regex(text, /^traffic_written_total\{type="referrer"\} 2$/m);
  t.regex(text, /^traffic_dead_lettered_total\{reason="malformed_json"\} 1$/m);
  t.regex(text, /^traffic_write_retries_total\{type="referrer"\} 1$/m);
  t.regex(text, /^traffic_sqs_entry_failures_total\{call="extend"\} 2$/m);
  t.regex(text, /^traffic_sqs_entry_failures_total\{call="dlq-send"\} 1$/m);
  t.regex(text, /^traffic_write_latency_seconds_sum\{type="referrer"\} 1\.5$/m);
  t.regex(text, /^traffic_in_flight 10$/m);
  t.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  healthy = false;
  const down = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.is(down.status, 503);
  t.deepEqual((await down.json()).problems, ['supervisor is draining, not running']);
  t.is((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
});

test('unhealthy when a writer holds visits and has written none for too long; a writer that just got work is not', (t) => {
  const lastReceiveAt = { 'poller-1': 99_000, 'poller-2': 99_000 };
  const stuck = assessHealth({
    ...base,
    lastReceiveAt,
    writers: [
      { name: 'writer-referrer', holding: 500, holdingSince: 5_000, lastWriteAt: 10_000 },
      { name: 'writer-type-in', holding: 40, holdingSince: 95_000, lastWriteAt: 1_000 },
      { name: 'writer-other', holding: 0, lastWriteAt: 0 },
    ],
  });
  t.false(stuck.ok);
  t.deepEqual(stuck.problems, ['writer-referrer holds 500 visit(s) and has written none for 90 s']);
  const writing = assessHealth({ ...base, lastReceiveAt, writers: [{ name: 'writer-referrer', holding: 500, holdingSince: 5_000, lastWriteAt: 99_000 }] });
  t.true(writing.ok);
});
