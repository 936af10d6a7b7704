/**
 * The dead-letterer: rejected messages of every poller share DLQ calls (up to 10 a call), each
 * reaches the DLQ once with its reason, a drain sends what waits at once, a failed send leaves
 * the messages on the PIPELINE, and every credit comes back.
 */
import test from 'ava';
import { SimulatedClock } from 'xstate';
import { DEAD_LETTERER_ID } from '../../machines/dead-letterer.ts';
import type { DeadLetter } from '../../machines/types.ts';
import { ConfigError, loadConfig } from '../../src/processor/config/config.ts';
import type { Tuning } from '../../src/processor/config/tuning.ts';
import { FakeQueue } from '../support/fake-queue.ts';
import { runUntil as runClockUntil, simulatedProcessor } from '../support/simulated-processor.ts';

/** `valid` referrer visits with an invalid body (unknown type) after every `every` of them. */
function fill(queue: FakeQueue, valid: number, every: number): number {
  let invalid = 0;
  for (let i = 0; i < valid; i++) {
    queue.send(JSON.stringify({ type: 'referrer', created_at: 1_700_000_000_000 + i, visit_id: `v${i}`, url: 'test.com' }));
    if (i % every === every - 1) {
      queue.send(JSON.stringify({ type: 'organic', created_at: 1_700_000_000_000, visit_id: `bad-${invalid}` }));
      invalid += 1;
    }
  }
  return invalid;
}

function start(queue: FakeQueue, env: Record<string, string>, clock: SimulatedClock, tuning?: Partial<Tuning>) {
  const { actor, credits, reports, written } = simulatedProcessor({ env: { MAX_IN_FLIGHT: '200', ...env }, tuning }, clock, queue);
  actor.start();
  return { actor, credits, reports, written };
}

const runUntil = (clock: SimulatedClock, done: () => boolean) => runClockUntil(clock, done, 10, 3_000);

test('rejected messages of all pollers share DLQ calls, ten at most a call, each copied once with its reason', async (t) => {
  const clock = new SimulatedClock();
  const queue = new FakeQueue(clock);
  const invalid = fill(queue, 300, 10);
  const calls: number[] = [];
  const deadLetter = queue.deadLetter.bind(queue);
  queue.deadLetter = (letters: readonly DeadLetter[]) => {
    calls.push(letters.length);
    return deadLetter(letters);
  };
  const { actor, credits, reports, written } = start(queue, {}, clock);
  await runUntil(clock, () => queue.messages.size === 0);
  t.is(queue.messages.size, 0, 'PIPELINE drained');
  t.is(written.size, 300);
  t.is(queue.deadLettered.length, invalid, 'one DLQ copy per invalid message');
  t.is(new Set(queue.deadLettered.map((d) => d.body)).size, invalid, 'no message copied twice');
  t.true(queue.deadLettered.every((d) => d.reason === 'invalid_type'));
  t.true(
    calls.every((n) => n <= 10),
    `batches of ${calls.join(', ')}`,
  );
  // Sent per receive this would be one call per invalid message (one in each receive holding one).
  t.true(calls.length <= Math.ceil(invalid / 10) + 3, `${calls.length} DLQ calls for ${invalid} messages: ${calls.join(', ')}`);
  const letters = reports.flatMap((r) => (r.kind === 'dead-lettered' ? r.letters : []));
  t.is(letters.length, invalid, 'every copy reported with its reason');
  t.true(letters.every((l) => l.reason.code === 'invalid_type' && l.reason.message.length > 0));
  t.is(credits.heldBy(DEAD_LETTERER_ID), 0, 'the dead-letterer holds no credit once its sends are done');
  actor.send({ type: 'SHUTDOWN' });
  await runUntil(clock, () => actor.getSnapshot().status === 'done');
  t.deepEqual(actor.getSnapshot().output, { status: 'stopped' });
  t.is(credits.inFlight, 0, 'every credit back');
});

test('SHUTDOWN sends the rejected messages still waiting at once, long before their linger ends', async (t) => {
  const clock = new SimulatedClock();
  const queue = new FakeQueue(clock);
  const invalid = fill(queue, 40, 10);
  const { actor, credits } = start(queue, { VISIBILITY_TIMEOUT_SECONDS: '300' }, clock, { deadLetterLingerMs: 60_000 });
  await runUntil(clock, () => queue.messages.size === invalid);
  t.is(queue.messages.size, invalid, 'valid visits written and deleted; the invalid ones wait for their DLQ call');
  t.is(queue.deadLettered.length, 0, 'still lingering');
  actor.send({ type: 'SHUTDOWN' });
  const sentAt = clock.now();
  await runUntil(clock, () => actor.getSnapshot().status === 'done');
  t.true(clock.now() - sentAt < 1_000, `stopped ${clock.now() - sentAt} ms after SHUTDOWN`);
  t.deepEqual(actor.getSnapshot().output, { status: 'stopped' });
  t.is(queue.deadLettered.length, invalid);
  t.is(queue.messages.size, 0);
  t.is(credits.inFlight, 0);
});

test('a DLQ call that fails leaves the messages on the PIPELINE, reports it, and gives the credits back', async (t) => {
  const clock = new SimulatedClock();
  const queue = new FakeQueue(clock);
  const invalid = fill(queue, 50, 10);
  queue.deadLetter = async () => {
    throw new Error('DLQ unavailable');
  };
  const { actor, credits, reports } = start(queue, {}, clock);
  const failedCount = () => reports.reduce((sum, r) => sum + (r.kind === 'dead-letter-failed' ? r.count : 0), 0);
  await runUntil(clock, () => failedCount() >= invalid);
  t.is(failedCount(), invalid, 'each failed call reported with its count');
  t.is(queue.messages.size, invalid, 'the invalid messages stay on the PIPELINE (received again after their lease)');
  t.is(queue.deadLettered.length, 0);
  t.is(credits.heldBy(DEAD_LETTERER_ID), 0, 'credits back although the call failed');
  actor.send({ type: 'SHUTDOWN' });
  await runUntil(clock, () => actor.getSnapshot().status === 'done');
  t.deepEqual(actor.getSnapshot().output, { status: 'stopped' });
  t.is(credits.inFlight, 0);
});

test('the dead-letter linger is checked: a range, and room in the lease for the DLQ calls', (t) => {
  t.is(loadConfig({}).deadLetterLingerMs, 200);
  t.is(loadConfig({}, { deadLetterLingerMs: 0 }).deadLetterLingerMs, 0);
  t.throws(() => loadConfig({}, { deadLetterLingerMs: -1 }), {
    instanceOf: ConfigError,
    message: /^tuning.deadLetterLingerMs=-1 is invalid: expected an integer from 0 to 60000/,
  });
  t.throws(() => loadConfig({}, { deadLetterLingerMs: 0.5 }), { instanceOf: ConfigError, message: /^tuning.deadLetterLingerMs=/ });
  t.throws(() => loadConfig({ VISIBILITY_TIMEOUT_SECONDS: '30' }, { deadLetterLingerMs: 25_000 }), {
    instanceOf: ConfigError,
    message: /^VISIBILITY_TIMEOUT_SECONDS=30 is invalid: tuning.deadLetterLingerMs \(25000\) must be at most .* before their lease ends$/,
  });
});
