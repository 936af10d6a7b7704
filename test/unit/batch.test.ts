/** The batch lifecycle on a simulated clock: heartbeat, retries with backoff, release, acknowledgement. */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import type { Delivery, Report } from '../../machines/types.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

function deliveries(n: number): Delivery[] {
  return Array.from({ length: n }, (_, i) => ({
    visit: { visitId: `v${i}`, type: 'referrer', createdAt: 1_700_000_000_000, url: 'test.com' },
    messageId: `m${i}`,
    receiptHandle: `r${i}`,
    receiveCount: 1,
  }));
}

const settings = { heartbeatMs: 10_000, visibilityTimeoutSeconds: 30, writeMaxAttempts: 4, retryBaseMs: 1_000, retryMaxMs: 60_000 };

function harness(write: () => Promise<void>) {
  const clock = new SimulatedClock();
  const calls = { extend: [] as Array<{ at: number; seconds: number }>, acknowledge: [] as string[][], release: [] as string[][], writes: [] as number[] };
  const reports: Report[] = [];
  const machine = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async () => {
        calls.writes.push(clock.now());
        return write();
      }),
      extendVisibility: fromPromise(async ({ input }: { input: { receiptHandles: readonly string[]; seconds: number } }) => {
        calls.extend.push({ at: clock.now(), seconds: input.seconds });
      }),
      acknowledge: fromPromise(async ({ input }: { input: { receiptHandles: readonly string[] } }) => {
        calls.acknowledge.push([...input.receiptHandles]);
        return { failed: 0 };
      }),
      release: fromPromise(async ({ input }: { input: { receiptHandles: readonly string[] } }) => {
        calls.release.push([...input.receiptHandles]);
      }),
    },
    actions: { report: (_, report: Report) => void reports.push(report) },
  });
  const actor = createActor(machine, { clock, input: { type: 'referrer', deliveries: deliveries(3), settings, startedAt: 0 } });
  return { clock, calls, reports, actor };
}

test('a slow write has its lease extended on every heartbeat, before the visibility timeout', async (t) => {
  let finish!: () => void;
  const { clock, calls, actor } = harness(() => new Promise<void>((resolve) => (finish = resolve)));
  actor.start();
  await settle();
  clock.increment(9_999);
  await settle();
  t.is(calls.extend.length, 0, 'no extension before the first heartbeat');
  clock.increment(1);
  await settle();
  t.deepEqual(calls.extend, [{ at: 10_000, seconds: 30 }]);
  t.true(calls.extend[0].at < settings.visibilityTimeoutSeconds * 1000);
  clock.increment(10_000);
  await settle();
  t.deepEqual(calls.extend.map((c) => c.at), [10_000, 20_000], 'each extension lands within the previous lease');
  finish();
  await settle();
  t.deepEqual(calls.acknowledge, [['r0', 'r1', 'r2']]);
  t.is(actor.getSnapshot().status, 'done');
  t.deepEqual(actor.getSnapshot().output, { type: 'referrer', count: 3, outcome: 'acknowledged' });
  clock.increment(60_000);
  await settle();
  t.is(calls.extend.length, 2, 'no extension after the batch is done');
});

test('failed writes are retried with growing delays, then released to SQS (not deleted)', async (t) => {
  const { clock, calls, reports, actor } = harness(async () => {
    throw new Error('database down');
  });
  actor.start();
  for (let i = 0; i < 20 && actor.getSnapshot().status === 'active'; i++) {
    await settle();
    clock.increment(1_000);
  }
  await settle();
  const failures = reports.filter((r) => r.kind === 'write-failed');
  t.is(calls.writes.length, settings.writeMaxAttempts, 'one write per allowed attempt');
  const delays = failures.filter((r) => r.willRetry).map((r) => r.delayMs);
  t.is(delays.length, settings.writeMaxAttempts - 1);
  for (let i = 1; i < delays.length; i++) t.true(delays[i] >= delays[i - 1], `delay ${i + 1} (${delays[i]}) >= delay ${i} (${delays[i - 1]})`);
  t.true(delays[delays.length - 1] >= 2 * settings.retryBaseMs, 'delays grow exponentially');
  // Gaps between write attempts are the backoff delays.
  const gaps = calls.writes.slice(1).map((at, i) => at - calls.writes[i]);
  for (let i = 0; i < gaps.length; i++) t.true(gaps[i] >= delays[i]);
  t.deepEqual(calls.release, [['r0', 'r1', 'r2']], 'exhausted messages are released for the redrive policy');
  t.deepEqual(calls.acknowledge, [], 'nothing deleted');
  t.deepEqual(actor.getSnapshot().output, { type: 'referrer', count: 3, outcome: 'released' });
});

test('ABORT (end of the grace period) releases the batch', async (t) => {
  const { calls, actor } = harness(() => new Promise<void>(() => {}));
  actor.start();
  await settle();
  actor.send({ type: 'ABORT' });
  await settle();
  t.deepEqual(calls.release, [['r0', 'r1', 'r2']]);
  t.deepEqual(actor.getSnapshot().output, { type: 'referrer', count: 3, outcome: 'released' });
});

test('a failing acknowledgement is retried, then given up: redelivery is idempotent', async (t) => {
  const clock = new SimulatedClock();
  let attempts = 0;
  const reports: Report[] = [];
  const machine = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async () => {}),
      extendVisibility: fromPromise(async () => {}),
      acknowledge: fromPromise<{ failed: number }, { receiptHandles: readonly string[] }>(async () => {
        attempts += 1;
        throw new Error('endpoint down');
      }),
      release: fromPromise(async () => {}),
    },
    actions: { report: (_, report: Report) => void reports.push(report) },
  });
  const actor = createActor(machine, { clock, input: { type: 'referrer', deliveries: deliveries(2), settings, startedAt: 0 } }).start();
  for (let i = 0; i < 10; i++) {
    await settle();
    clock.increment(1_000);
  }
  t.is(attempts, 4, 'first try and three retries');
  t.true(reports.some((r) => r.kind === 'acknowledge-failed'));
  t.is(actor.getSnapshot().status, 'done');
});
