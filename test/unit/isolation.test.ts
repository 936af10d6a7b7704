/**
 * Isolation between visit types: the share each writer may hold, deferral of what is beyond it,
 * the circuit breaker per table, and the whole system on a simulated clock with one table hanging.
 */
import test from 'ava';
import { CircuitBreaker } from '../../machines/circuit-breaker.ts';
import { admit, deferDelaySeconds, type ShareSettings } from '../../machines/isolation.ts';
import type { Delivery } from '../../machines/types.ts';
import { mixedVisits, runUntil, simulatedProcessor } from '../support/simulated-processor.ts';

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

/** 200 referrers and 200 type-ins; referrer writes hang (signal honoured), type-in writes take 20 ms. */
async function hangingReferrer(typeSharePercent: string) {
  const sim = simulatedProcessor({
    env: { POLLERS: '2', BATCH_SIZE: '10', MAX_IN_FLIGHT: '100' },
    tuning: { typeSharePercent: Number(typeSharePercent) },
    writeMs: 20,
    beforeWrite: async (type, signal) => {
      if (type.name === 'referrer') {
        await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
    },
  });
  for (const body of mixedVisits(400)) sim.queue.send(body);
  // mixedVisits: odd visit ids are the direct (type-in) visits.
  const typeInWritten = () => [...sim.written].filter((id) => Number(id.slice(1)) % 2 === 1).length;
  let referrerMax = 0;
  sim.actor.start();
  await runUntil(
    sim.clock,
    () => {
      // The share binds while the other type has work; once type-in is done, referrer may take the rest.
      if (typeInWritten() < 200) referrerMax = Math.max(referrerMax, sim.credits.heldBy('writer-referrer'));
      return sim.clock.now() >= 15_000;
    },
    10,
  );
  const typeIn = typeInWritten();
  sim.actor.stop();
  return { typeIn, referrerMax, rewritten: sim.rewritten(), deferred: sim.reports.filter((r) => r.kind === 'deferred').length };
}

test('one table hanging: the other type keeps being written, the hanging one holds at most its share', async (t) => {
  const isolated = await hangingReferrer('70');
  t.is(isolated.typeIn, 200, 'every type-in written within 15 s of the clock');
  t.true(isolated.referrerMax <= 70, `referrer held ${isolated.referrerMax} of 100 credits while type-in had work (share 70)`);
  t.true(isolated.deferred > 0, 'referrers beyond the share deferred');
  t.deepEqual(isolated.rewritten, [], 'no visit written twice');
  // Control: without a share, the hanging type takes the whole budget and type-in starves.
  const shared = await hangingReferrer('100');
  t.true(shared.typeIn < 200, `without a share only ${shared.typeIn} type-in written`);
  t.true(shared.referrerMax > 70);
});
