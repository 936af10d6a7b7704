/**
 * Isolation between visit types: the share each writer may hold, deferral of what is beyond it,
 * the circuit breaker per table, and the whole system on a simulated clock with one table hanging.
 */
import test from 'ava';
import PQueue from 'p-queue';
import pino from 'pino';
import { createActor, SimulatedClock } from 'xstate';
import { CircuitBreaker } from '../../machines/circuit-breaker.ts';
import { CreditPool } from '../../machines/credit-pool.ts';
import { admit, deferDelaySeconds, type ShareSettings } from '../../machines/isolation.ts';
import type { Delivery, Report } from '../../machines/types.ts';
import { VISIT_TYPES } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config.ts';
import { provideMachines, supervisorInput } from '../../src/processor/processor.ts';
import { FakeQueue } from '../support/fake-queue.ts';

const share: ShareSettings = { maxHolding: 10, deferUpToReceive: 2, deferSeconds: 30, deferBusySeconds: 2, deferMaxSeconds: 900 };
const delivery = (i: number, receiveCount = 1): Delivery => ({
  visit: { type: 'referrer', createdAt: 0, visitId: `v${i}`, url: 'test.com' } as Delivery['visit'],
  messageId: `m${i}`,
  receiptHandle: `r${i}`,
  receiveCount,
});

test('a writer keeps what fits in its share and defers the rest, longer when its storage is failing', (t) => {
  const incoming = [delivery(1), delivery(2), delivery(3, 2), delivery(4, 3)];
  const busy = admit(incoming, 9, false, share);
  t.deepEqual(
    busy.keep.map((d) => d.messageId),
    ['m1', 'm4'],
    'one slot left; the third receive is always kept',
  );
  t.deepEqual(busy.defer, [
    { seconds: 2, deliveries: [incoming[1]] },
    { seconds: 4, deliveries: [incoming[2]] },
  ]);
  const failing = admit(incoming, 10, true, share);
  t.deepEqual(
    failing.keep.map((d) => d.messageId),
    ['m4'],
  );
  t.deepEqual(
    failing.defer.map((g) => g.seconds),
    [30, 60],
  );
  t.is(deferDelaySeconds(10, true, share), 900, 'capped');
  t.deepEqual(admit(incoming, 0, true, share).defer, [], 'room for all: nothing deferred');
});

test('the circuit opens after N failures in a row, lets one probe through when its time is over, and doubles on a failed probe', (t) => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 3, baseOpenMs: 1_000, maxOpenMs: 30_000 }, () => now);
  t.deepEqual(breaker.request(), { go: true, probe: false });
  t.false(breaker.failure(false));
  t.false(breaker.failure(false));
  t.true(breaker.failure(false), 'third failure opens it');
  t.is(breaker.state, 'open');
  t.deepEqual(breaker.request(), { go: false, waitMs: 1_000 });
  now = 1_000;
  t.deepEqual(breaker.request(), { go: true, probe: true });
  t.false(breaker.request().go, 'only one probe at a time');
  t.true(breaker.failure(true), 'a failed probe opens it again');
  t.deepEqual(breaker.request(), { go: false, waitMs: 2_000 });
  now = 3_000;
  t.deepEqual(breaker.request(), { go: true, probe: true });
  breaker.cancelProbe();
  t.deepEqual(breaker.request(), { go: true, probe: true }, 'a cancelled probe lets another one go');
  breaker.success();
  t.is(breaker.state, 'closed');
  t.deepEqual(breaker.request(), { go: true, probe: false });
});

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** 200 referrers and 200 type-ins; referrer writes hang (signal honoured), type-in writes take 20 ms. */
async function hangingReferrer(typeSharePercent: string) {
  const clock = new SimulatedClock();
  const queue = new FakeQueue(clock);
  for (let i = 0; i < 400; i++) {
    queue.send(
      i % 2 === 0
        ? JSON.stringify({ type: 'referrer', created_at: 1_700_000_000_000, visit_id: `v${i}`, url: 'test.com' })
        : JSON.stringify({ type: 'type-in', created_at: 1_700_000_000_000, visit_id: `v${i}`, ip: '10.1.2.3' }),
    );
  }
  const written = new Set<string>();
  const storage = {
    backend: 'clocked',
    async writeBatch(type: { name: string }, visits: readonly { visitId: string }[], signal: AbortSignal) {
      if (type.name === 'referrer') {
        await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 20));
      for (const v of visits) written.add(v.visitId);
    },
  };
  const config = loadConfig({ POLLERS: '2', BATCH_SIZE: '10', MAX_IN_FLIGHT: '100', RECEIVE_WAIT_SECONDS: '1', TYPE_SHARE_PERCENT: typeSharePercent });
  const credits = new CreditPool(config.maxInFlight, Date.now);
  const reports: Report[] = [];
  let referrerMax = 0;
  const machine = provideMachines({
    queue,
    storage: storage as never,
    credits,
    writeLimiters: new Map(VISIT_TYPES.map((v) => [v.name, new PQueue({ concurrency: 2 })])),
    config,
    report: (r) => void reports.push(r),
    logger: pino({ level: 'silent' }),
  });
  const actor = createActor(machine, { clock, input: supervisorInput(config) }).start();
  for (let i = 0; i < 1_500; i++) {
    await settle();
    clock.increment(10);
    referrerMax = Math.max(referrerMax, credits.heldBy('writer-referrer'));
  }
  const typeIn = [...written].filter((id) => Number(id.slice(1)) % 2 === 1).length;
  actor.stop();
  return { typeIn, referrerMax, deferred: reports.filter((r) => r.kind === 'deferred').length };
}

test('one table hanging: the other type keeps being written, the hanging one holds at most its share', async (t) => {
  const isolated = await hangingReferrer('70');
  t.is(isolated.typeIn, 200, 'every type-in written within 15 s of the clock');
  t.true(isolated.referrerMax <= 70, `referrer held ${isolated.referrerMax} of 100 credits (share 70)`);
  t.true(isolated.deferred > 0, 'referrers beyond the share deferred');
  // Control: without a share, the hanging type takes the whole budget and type-in starves.
  const shared = await hangingReferrer('100');
  t.true(shared.typeIn < 200, `without a share only ${shared.typeIn} type-in written`);
  t.true(shared.referrerMax > 70);
});
