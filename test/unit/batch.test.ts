/** The batch lifecycle on a simulated clock: leases, retries with backoff, poison split, release, acknowledgement. */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { batchMachine, writeFailedReason } from '../../machines/batch.ts';
import { WriteNotStarted } from '../../machines/errors.ts';
import type { BatchSettings, DeadLetter, DeadLetterResult, Delivery, EntryResult, ExtendResult, Lease, Report } from '../../machines/types.ts';
import type { VisitTypeName } from '../../src/contract/visit-types.ts';
import { deliveries } from '../support/deliveries.ts';
import { idle } from '../support/idle.ts';

const settings: BatchSettings = {
  heartbeatMs: 10_000,
  visibilityTimeoutSeconds: 30,
  writeMaxAttempts: 4,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  lingerMs: 0,
  writeTimeoutMs: 10_000,
  leaseMarginMs: 1_000,
  deadLetterAfterReceives: 3,
  ackRetries: 3,
  ackRetryBaseMs: 200,
};

interface HarnessOptions {
  write?: (ids: string[], signal: AbortSignal) => Promise<void>;
  extend?: (leases: readonly Lease[]) => Promise<ExtendResult>;
  acknowledge?: (leases: readonly Lease[]) => Promise<EntryResult>;
  settings?: Partial<BatchSettings>;
  deliveries?: Delivery[];
}

function harness(options: HarnessOptions | (() => Promise<void>)) {
  const opts: HarnessOptions = typeof options === 'function' ? { write: options } : options;
  const clock = new SimulatedClock();
  const calls = {
    extend: [] as Array<{ at: number; seconds: number; ids: string[] }>,
    acknowledge: [] as string[][],
    release: [] as string[][],
    writes: [] as number[],
    written: [] as string[][],
    deadLettered: [] as DeadLetter[],
  };
  const reports: Report[] = [];
  const machine = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async ({ input, signal }: { input: { type: VisitTypeName; deliveries: readonly Delivery[] }; signal: AbortSignal }) => {
        const ids = input.deliveries.map((d) => d.messageId);
        calls.writes.push(clock.now());
        await (opts.write ?? (async () => {}))(ids, signal);
        calls.written.push(ids);
      }),
      extendVisibility: fromPromise(async ({ input }: { input: { leases: readonly Lease[]; seconds: number } }): Promise<ExtendResult> => {
        calls.extend.push({ at: clock.now(), seconds: input.seconds, ids: input.leases.map((l) => l.messageId) });
        return opts.extend ? opts.extend(input.leases) : { failed: [] };
      }),
      acknowledge: fromPromise(async ({ input }: { input: { leases: readonly Lease[] } }): Promise<EntryResult> => {
        calls.acknowledge.push(input.leases.map((l) => l.receiptHandle));
        return opts.acknowledge ? opts.acknowledge(input.leases) : { failed: [] };
      }),
      release: fromPromise(async ({ input }: { input: { leases: readonly Lease[] } }): Promise<EntryResult> => {
        calls.release.push(input.leases.map((l) => l.receiptHandle));
        return { failed: [] };
      }),
      deadLetter: fromPromise(async ({ input }: { input: { letters: readonly DeadLetter[] } }): Promise<DeadLetterResult> => {
        calls.deadLettered.push(...input.letters);
        return { sent: input.letters.map((l) => ({ messageId: l.messageId, reasonKept: 'full' as const })), notSent: [], notDeleted: [] };
      }),
    },
    actions: { report: (_, report: Report) => void reports.push(report) },
  });
  const actor = createActor(machine, {
    clock,
    input: { type: 'referrer', deliveries: opts.deliveries ?? deliveries(3), settings: { ...settings, ...opts.settings } },
  });
  return { clock, calls, reports, actor };
}

async function run(clock: SimulatedClock, until: () => boolean, stepMs = 100, maxSteps = 10_000) {
  for (let i = 0; i < maxSteps && !until(); i++) {
    await idle();
    clock.increment(stepMs);
  }
  await idle();
}

test('a slow write has its lease extended on every heartbeat, before the visibility timeout', async (t) => {
  let finish!: () => void;
  const { clock, calls, actor } = harness(() => new Promise<void>((resolve) => (finish = resolve)));
  actor.start();
  await idle();
  clock.increment(9_999);
  await idle();
  t.is(calls.extend.length, 0, 'no extension before the first heartbeat');
  clock.increment(1);
  await idle();
  t.deepEqual(
    calls.extend.map(({ at, seconds }) => ({ at, seconds })),
    [{ at: 10_000, seconds: 30 }],
  );
  clock.increment(10_000);
  await idle();
  t.deepEqual(
    calls.extend.map((c) => c.at),
    [10_000, 20_000],
    'each extension lands within the previous lease',
  );
  finish();
  await idle();
  t.deepEqual(calls.acknowledge, [['r0', 'r1', 'r2']]);
  t.is(actor.getSnapshot().status, 'done');
  t.like(actor.getSnapshot().output, { type: 'referrer', count: 3, outcome: 'acknowledged', written: 3 });
  clock.increment(60_000);
  await idle();
  t.is(calls.extend.length, 2, 'no extension after the batch is done');
});

test('buffered visits are covered from receipt: the first heartbeat comes linger time earlier', async (t) => {
  const { clock, calls, actor } = harness({ write: () => new Promise<void>(() => {}), settings: { lingerMs: 4_000 } });
  actor.start();
  await idle();
  clock.increment(5_999);
  await idle();
  t.is(calls.extend.length, 0);
  clock.increment(1);
  await idle();
  t.deepEqual(
    calls.extend.map((c) => c.at),
    [6_000],
    'heartbeat 10 s after receipt, 6 s after the flush',
  );
  actor.stop();
});

test('a slow extension counts against the lease: the next one comes early', async (t) => {
  let extensions = 0;
  const { clock, calls, actor } = harness({
    write: () => new Promise<void>(() => {}),
    // The first extension took 15 s: SQS may have applied it at its start, so 15 s of the 30 s lease are left.
    extend: async () => ({ failed: [], elapsedMs: ++extensions === 1 ? 15_000 : 0 }),
  });
  actor.start();
  await run(clock, () => calls.extend.length >= 2, 100, 400);
  t.deepEqual(
    calls.extend.map((c) => c.at),
    [10_000, 14_000],
    'stale 15 - 10 (write deadline) - 1 (margin) = 4 s after it, and extended at once',
  );
  actor.stop();
});

test('no write starts on a lease too short for the write deadline: it is extended first', async (t) => {
  // Buffered 25 s of a 30 s lease: 5 s left, less than the 10 s write deadline and the margin.
  let extended!: (result: EntryResult) => void;
  const { clock, calls, actor } = harness({ settings: { lingerMs: 25_000 }, extend: () => new Promise((resolve) => (extended = resolve)) });
  actor.start();
  await idle();
  clock.increment(0);
  await idle();
  t.is(calls.extend.length, 1, 'extended at once');
  t.is(calls.writes.length, 0, 'no write before the lease is renewed');
  extended({ failed: [] });
  await idle();
  t.is(calls.writes.length, 1, 'written once the lease is renewed');
  t.deepEqual(calls.acknowledge, [['r0', 'r1', 'r2']]);
});

test('a lease that could not be extended takes its message out of the batch: never written or deleted through it', async (t) => {
  let attempt = 0;
  const { clock, calls, reports, actor } = harness({
    write: async () => {
      if (++attempt === 1) throw new Error('database busy');
    },
    settings: { retryBaseMs: 20_000, retryMaxMs: 20_000 },
    extend: async (leases) => ({ failed: leases.filter((l) => l.messageId === 'm1').map((l) => ({ messageId: l.messageId, code: 'ReceiptHandleIsInvalid' })) }),
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done');
  t.deepEqual(calls.written.at(-1), ['m0', 'm2'], 'the retry leaves out the message whose lease was lost');
  t.deepEqual(calls.acknowledge, [['r0', 'r2']], 'only messages still leased are deleted');
  t.true(reports.some((r) => r.kind === 'lease-lost' && r.messageIds.includes('m1')));
  t.true(reports.some((r) => r.kind === 'entries-failed' && r.call === 'extend' && r.failures.length === 1));
  t.like(actor.getSnapshot().output, { count: 3, written: 2, leaseLost: 1, outcome: 'released' });
});

test('a lease lost while its write is in flight: the write is abandoned and redone without that row', async (t) => {
  const { clock, calls, actor } = harness({
    // Each write takes 15 s; the heartbeat at 10 s finds m1's lease gone.
    write: (_ids, signal) =>
      new Promise<void>((resolve, reject) => {
        clock.setTimeout(resolve, 15_000);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    extend: async (leases) => ({ failed: leases.filter((l) => l.messageId === 'm1').map((l) => ({ messageId: l.messageId, code: 'ReceiptHandleIsInvalid' })) }),
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done', 500);
  t.deepEqual(calls.written, [['m0', 'm2']], 'the only write that finished left m1 out');
  t.deepEqual(calls.acknowledge, [['r0', 'r2']]);
  t.like(actor.getSnapshot().output, { written: 2, leaseLost: 1 });
});

test('a lease that lapses while written visits wait for their delete: reported as written, not deleted', async (t) => {
  const { clock, calls, reports, actor } = harness({
    acknowledge: () => new Promise<EntryResult>(() => {}),
    extend: async () => {
      throw new Error('endpoint unreachable');
    },
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done', 500);
  t.deepEqual(calls.written, [['m0', 'm1', 'm2']]);
  const lost = reports.find((r) => r.kind === 'lease-lost');
  t.like(lost, { messageIds: ['m0', 'm1', 'm2'], written: ['m0', 'm1', 'm2'] });
});

test('a lease that lapses (every extension fails) stops the batch: the write is abandoned, nothing deleted', async (t) => {
  let aborted = false;
  const { clock, calls, reports, actor } = harness({
    write: () => new Promise<void>(() => {}),
    extend: async () => {
      throw new Error('endpoint unreachable');
    },
  });
  const machine = actor;
  machine.start();
  await run(clock, () => machine.getSnapshot().status === 'done', 500);
  aborted = machine.getSnapshot().status === 'done';
  t.true(aborted);
  t.true(clock.now() <= 30_000 - 1_000 + 500, `stopped before the lease ended (${clock.now()} ms)`);
  t.deepEqual(calls.acknowledge, []);
  t.deepEqual(calls.release, []);
  t.true(reports.some((r) => r.kind === 'lease-lost' && r.messageIds.length === 3));
  t.like(machine.getSnapshot().output, { written: 0, leaseLost: 3 });
});

test('failed writes are retried with growing delays; if both halves fail too, the batch is released to SQS whole (not deleted)', async (t) => {
  const { clock, calls, reports, actor } = harness(async () => {
    throw new Error('database down');
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done', 1_000);
  const failures = reports.filter((r) => r.kind === 'write-failed');
  const delays = failures.filter((r) => r.willRetry).map((r) => r.delayMs);
  t.is(delays.length, settings.writeMaxAttempts - 1, 'the whole batch gets its retries first');
  for (let i = 1; i < delays.length; i++) t.true(delays[i] >= delays[i - 1], `delay ${i + 1} (${delays[i]}) >= delay ${i} (${delays[i - 1]})`);
  t.true(delays[delays.length - 1] >= 2 * settings.retryBaseMs, 'delays grow exponentially');
  const gaps = calls.writes.slice(1, settings.writeMaxAttempts).map((at, i) => at - calls.writes[i]);
  for (let i = 0; i < gaps.length; i++) t.true(gaps[i] >= delays[i]);
  t.deepEqual(calls.written, [], 'nothing written');
  t.is(calls.writes.length, settings.writeMaxAttempts + 2, 'then each half once ([m0 m1], [m2]); no further splitting');
  t.deepEqual(
    calls.release.map((ids) => [...ids].sort()),
    [['r0', 'r1', 'r2']],
    'released for a later receive',
  );
  t.true(reports.some((r) => r.kind === 'released' && /both halves/.test(r.reason)));
  t.deepEqual(calls.acknowledge, [], 'nothing deleted');
  t.deepEqual(calls.deadLettered, [], 'not dead-lettered before their last receive');
  t.like(actor.getSnapshot().output, { type: 'referrer', count: 3, outcome: 'released', written: 0 });
});

test('storage refusing every row at their last receive: split to single rows, each dead-lettered with write_failed', async (t) => {
  const { clock, calls, actor } = harness({
    deliveries: deliveries(3, settings.deadLetterAfterReceives),
    write: async () => {
      throw new Error('table is read-only');
    },
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done', 1_000);
  t.deepEqual(calls.deadLettered.map((l) => [l.messageId, l.reason.code]).sort(), [
    ['m0', 'write_failed'],
    ['m1', 'write_failed'],
    ['m2', 'write_failed'],
  ]);
  t.deepEqual(calls.release, []);
});

test('two poison rows in different halves: released whole at first, isolated at their last receive', async (t) => {
  for (const receiveCount of [1, settings.deadLetterAfterReceives]) {
    const { clock, calls, actor } = harness({
      deliveries: deliveries(8, receiveCount),
      write: async (ids) => {
        if (ids.includes('m1') || ids.includes('m6')) throw new Error('row refused');
      },
    });
    actor.start();
    await run(clock, () => actor.getSnapshot().status === 'done', 1_000);
    if (receiveCount === 1) {
      t.deepEqual(calls.written, []);
      t.is(calls.release.flat().length, 8, 'all released: a later receive mixes them with other rows');
    } else {
      t.deepEqual(calls.written.flat().sort(), ['m0', 'm2', 'm3', 'm4', 'm5', 'm7']);
      t.deepEqual(calls.deadLettered.map((l) => l.messageId).sort(), ['m1', 'm6']);
    }
  }
});

test('one poison row among 8: its neighbours are written, it is released; at its last receive it goes to the DLQ with write_failed', async (t) => {
  for (const receiveCount of [1, 3]) {
    const { clock, calls, actor } = harness({
      deliveries: deliveries(8, receiveCount),
      write: async (ids) => {
        if (ids.includes('m5')) throw new Error('Duplicate entry v5 for site5.example: value too long');
      },
    });
    actor.start();
    await run(clock, () => actor.getSnapshot().status === 'done', 1_000);
    const written = calls.written.flat().sort();
    t.deepEqual(written, ['m0', 'm1', 'm2', 'm3', 'm4', 'm6', 'm7'], `every neighbour written once (receive ${receiveCount})`);
    t.deepEqual(calls.acknowledge.flat().sort(), ['r0', 'r1', 'r2', 'r3', 'r4', 'r6', 'r7']);
    if (receiveCount < settings.deadLetterAfterReceives) {
      t.deepEqual(calls.release, [['r5']]);
      t.deepEqual(calls.deadLettered, []);
    } else {
      t.deepEqual(calls.release, []);
      t.is(calls.deadLettered.length, 1);
      const [letter] = calls.deadLettered;
      t.is(letter.messageId, 'm5');
      t.is(letter.body, '{"visit_id":"v5"}', 'the original body goes to the DLQ');
      t.is(letter.reason.code, 'write_failed');
      t.regex(letter.reason.message, /value too long/);
      t.notRegex(letter.reason.message, /site5\.example|v5/, 'no row content in the reason');
      t.like(actor.getSnapshot().output, { written: 7, deadLettered: 1 });
    }
  }
});

test('a poison row in the first half: the second half is written first, then the first is split', async (t) => {
  const { clock, calls, actor } = harness({
    deliveries: deliveries(8),
    write: async (ids) => {
      if (ids.includes('m1')) throw new Error('row refused');
    },
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done', 1_000);
  t.deepEqual(calls.written.flat().sort(), ['m0', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  t.deepEqual(calls.release, [['r1']]);
});

test('the write_failed reason is bounded and on one line', (t) => {
  const [row] = deliveries(1);
  const reason = writeFailedReason(new Error(`boom\n${'x'.repeat(5_000)}`), row);
  t.true(reason.length < 400);
  t.false(reason.includes('\n'));
});

test('ABORT (end of the grace period) releases the batch', async (t) => {
  const { calls, actor } = harness(() => new Promise<void>(() => {}));
  actor.start();
  await idle();
  actor.send({ type: 'ABORT' });
  await idle();
  t.deepEqual(calls.release, [['r0', 'r1', 'r2']]);
  t.like(actor.getSnapshot().output, { type: 'referrer', count: 3, outcome: 'released' });
});

test('a failing acknowledgement is retried, then given up: redelivery is idempotent', async (t) => {
  const clock = new SimulatedClock();
  let attempts = 0;
  const reports: Report[] = [];
  const machine = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async () => {}),
      extendVisibility: fromPromise(async (): Promise<EntryResult> => ({ failed: [] })),
      acknowledge: fromPromise<EntryResult, { leases: readonly Lease[] }>(async () => {
        attempts += 1;
        throw new Error('endpoint down');
      }),
      release: fromPromise(async (): Promise<EntryResult> => ({ failed: [] })),
    },
    actions: { report: (_, report: Report) => void reports.push(report) },
  });
  const actor = createActor(machine, { clock, input: { type: 'referrer', deliveries: deliveries(2), settings } }).start();
  for (let i = 0; i < 10; i++) {
    await idle();
    clock.increment(1_000);
  }
  t.is(attempts, 4, 'first try and three retries');
  t.true(reports.some((r) => r.kind === 'acknowledge-failed'));
  t.is(actor.getSnapshot().status, 'done');
});

test('entries a delete did not carry out are retried alone, by message id', async (t) => {
  const clock = new SimulatedClock();
  const acks: string[][] = [];
  const machine = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async () => {}),
      acknowledge: fromPromise<EntryResult, { leases: readonly Lease[] }>(async ({ input }) => {
        acks.push(input.leases.map((l) => l.messageId));
        return { failed: acks.length === 1 ? [{ messageId: 'm1', code: 'InternalError' }] : [] };
      }),
    },
  });
  const actor = createActor(machine, { clock, input: { type: 'referrer', deliveries: deliveries(3), settings } }).start();
  await run(clock, () => actor.getSnapshot().status === 'done');
  t.deepEqual(acks, [['m0', 'm1', 'm2'], ['m1']]);
});

test('a write that never started (no write slot in time) is not an attempt: written again at once, no failure reported', async (t) => {
  let tries = 0;
  const { clock, calls, reports, actor } = harness(async () => {
    tries += 1;
    if (tries === 1) throw new WriteNotStarted('no write slot for referrer within 10000 ms');
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done');
  t.deepEqual(calls.writes, [0, 0], 'the second write starts at once, without a retry delay');
  t.deepEqual(
    reports.filter((r) => r.kind === 'write-failed'),
    [],
  );
  t.like(
    reports.find((r) => r.kind === 'written'),
    { attempts: 1 },
  );
  t.deepEqual(calls.acknowledge, [['r0', 'r1', 'r2']]);
});

test('only the machines’ own WriteNotStarted is taken for a write that never started, not an error of that name', async (t) => {
  let tries = 0;
  const { clock, reports, actor } = harness(async () => {
    tries += 1;
    if (tries === 1) throw Object.assign(new Error('driver error'), { name: 'WriteNotStarted' });
  });
  actor.start();
  await run(clock, () => actor.getSnapshot().status === 'done');
  t.like(
    reports.find((r) => r.kind === 'write-failed'),
    { attempt: 1, willRetry: true },
  );
  t.like(
    reports.find((r) => r.kind === 'written'),
    { attempts: 2 },
  );
});
