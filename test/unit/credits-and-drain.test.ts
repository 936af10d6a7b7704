/**
 * Faults the other tests could not see: credits leaked by failed receives or by a crashed child,
 * and a drain that releases in-flight work at once instead of letting it finish.
 */
import test from 'ava';
import { assign, createActor, fromPromise, setup, SimulatedClock } from 'xstate';
import { CreditPool } from '../../machines/credit-pool.ts';
import { pollerMachine } from '../../machines/poller.ts';
import { receiverOf } from '../../machines/receiver.ts';
import { supervisorMachine } from '../../machines/supervisor.ts';
import type { EntryResult, QueueMessage } from '../../machines/types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { supervisorInput } from '../../src/processor/processor.ts';
import { idle, until } from '../support/idle.ts';
import { runUntil, simulatedProcessor } from '../support/simulated-processor.ts';

test('every failed receive gives back all the credits it took', async (t) => {
  const clock = new SimulatedClock();
  const credits = new CreditPool(20, Date.now);
  let receives = 0;
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(({ input, signal }: { input: { max: number; owner: string }; signal: AbortSignal }) =>
        credits.acquire(input.max, signal, undefined, input.owner),
      ),
      receiveMessages: receiverOf(async (): Promise<QueueMessage[]> => {
        receives += 1;
        if (receives <= 6) throw new Error('endpoint down');
        return new Promise<QueueMessage[]>(() => {});
      }),
      release: fromPromise(async (): Promise<EntryResult> => ({ failed: [] })),
    },
    actions: { returnCredits: ({ self }, n: number) => credits.giveBack(n, self.id) },
  });
  const actor = createActor(poller, {
    clock,
    input: { id: 'p', settings: { maxMessages: 10, waitSeconds: 20, backoffBaseMs: 100, backoffMaxMs: 100, stopGraceMs: 500 } },
  }).start();
  await runUntil(clock, () => receives >= 7, 100, 50);
  t.is(receives, 7, 'kept polling after six failures');
  t.is(credits.available + actor.getSnapshot().context.holding, credits.capacity, 'only the receive in flight holds credits');
  actor.stop();
});

test('the credits a crashed child held go back to the pool', async (t) => {
  const clock = new SimulatedClock();
  const credits = new CreditPool(50, Date.now);
  // A poller that takes 7 credits and then fails with a bug.
  const crashing = setup({ actors: { take: fromPromise(() => credits.acquire(7, undefined, undefined, 'poller-1')) } }).createMachine({
    context: { holding: 0 },
    initial: 'taking',
    states: {
      taking: {
        invoke: {
          src: 'take',
          onDone: { target: 'holding', actions: assign({ holding: ({ event }) => event.output }) },
        },
      },
      holding: {
        after: { 10: 'broken' },
      },
      broken: {
        entry: () => {
          throw new Error('poller bug');
        },
      },
    },
  });
  const machine = supervisorMachine.provide({
    actors: { prepare: fromPromise(async () => {}), writer: setup({}).createMachine({}) as never, poller: crashing as never },
    actions: { returnCreditsOf: (_, owner: string) => void credits.giveBackAll(owner) },
  });
  const input = { ...supervisorInput(loadConfig({ POLLERS: '1' })), restartBackoff: { baseMs: 60_000, maxMs: 60_000 } };
  const actor = createActor(machine, { clock, input }).start();
  await until(() => credits.available === credits.capacity - 7, 'the child holds 7 credits');
  t.is(credits.available, credits.capacity - 7, 'the child holds 7 credits');
  clock.increment(10);
  await idle();
  t.is(actor.getSnapshot().value, 'running');
  t.is(credits.available, credits.capacity, 'all 7 credits returned before the restart');
  actor.stop();
});

test('SHUTDOWN lets in-flight batches finish within the grace period instead of releasing them at once', async (t) => {
  const { clock, queue, written, credits, reports, actor } = simulatedProcessor({ env: { SHUTDOWN_GRACE_MS: '10000' }, writeMs: 200 });
  for (let i = 0; i < 400; i++) queue.send(JSON.stringify({ type: 'referrer', created_at: 1_700_000_000_000 + i, visit_id: `v${i}`, url: 'test.com' }));
  actor.start();
  await runUntil(clock, () => written.size >= 100, 10, 1_000);
  const inFlight = credits.inFlight;
  t.true(inFlight > 0, 'visits in flight when the signal comes');
  const writtenBefore = written.size;
  actor.send({ type: 'SHUTDOWN' });
  await runUntil(clock, () => actor.getSnapshot().status === 'done', 10, 2_000);
  t.deepEqual(actor.getSnapshot().output, { status: 'stopped' });
  t.deepEqual(
    reports.filter((r) => r.kind === 'released' && !r.source.startsWith('poller-')),
    [],
    'no batch released: they finished within the grace period',
  );
  t.true(written.size > writtenBefore, 'batches in flight at SHUTDOWN were written');
  t.is(queue.invisible, 0, 'nothing left invisible');
  t.is(written.size + queue.messages.size, 400, 'every visit written or still queued');
  t.is(credits.inFlight, 0);
});
