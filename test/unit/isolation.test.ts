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

const breakerAt = (clock: { now: number }) => new CircuitBreaker({ failureThreshold: 3, openMs: 1_000 }, () => clock.now);

test('the circuit opens after N failures in a row; a success in between starts the count again', (t) => {
  const breaker = breakerAt({ now: 0 });
  t.false(breaker.failure());
  t.false(breaker.failure());
  breaker.success();
  t.false(breaker.failure());
  t.false(breaker.failure());
  t.is(breaker.state, 'closed', 'two failures since the last success');
  t.true(breaker.failure(), 'third failure in a row opens it');
  t.is(breaker.state, 'open');
  t.is(breaker.openMs, 1_000);
});

test('the circuit goes from open to half-open by the clock and stays not closed while failures go on', (t) => {
  const clock = { now: 0 };
  const breaker = breakerAt(clock);
  for (let i = 0; i < 3; i++) breaker.failure();
  clock.now = 999;
  t.is(breaker.state, 'open');
  t.is(breaker.openMs, 1);
  clock.now = 1_000;
  t.is(breaker.state, 'half-open', 'its open time is over');
  t.is(breaker.openMs, 0);
  t.false(breaker.failure(), 'a failure while half-open does not open it again');
  clock.now = 60_000;
  t.is(breaker.state, 'half-open', 'still not closed: no write has succeeded');
});

test('a success closes the circuit, and the next opening starts again from the base period', (t) => {
  const clock = { now: 0 };
  const breaker = breakerAt(clock);
  for (let i = 0; i < 3; i++) breaker.failure();
  clock.now = 500;
  t.is(breaker.openMs, 500);
  breaker.success();
  t.is(breaker.state, 'closed', 'closed at once, before its open time is over');
  t.false(breaker.failure(), 'a closed circuit needs N failures in a row again');
  t.false(breaker.failure());
  t.true(breaker.failure());
  t.is(breaker.openMs, 1_000);
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
  const config = loadConfig(
    { POLLERS: '2', BATCH_SIZE: '10', MAX_IN_FLIGHT: '100', RECEIVE_WAIT_SECONDS: '1' },
    { typeSharePercent: Number(typeSharePercent) },
  );
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
