/**
 * STOP and a receive in flight: an idle long poll is aborted after a short grace (an idle
 * processor does not wait out RECEIVE_WAIT_SECONDS); a receive that answers within the grace
 * (a busy queue) has what it returned released, not left invisible.
 */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { pollerMachine } from '../../machines/poller.ts';
import { receiverOf } from '../../machines/receiver.ts';
import type { EntryResult, Lease, QueueMessage } from '../../machines/types.ts';
import { idle } from '../support/idle.ts';

function harness(receive: (clock: SimulatedClock, signal: AbortSignal) => Promise<QueueMessage[]>) {
  const clock = new SimulatedClock();
  const released: number[] = [];
  const releasedHandles: string[] = [];
  let receiveSignal: AbortSignal | undefined;
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(async () => 10),
      receiveMessages: receiverOf((_, signal) => {
        receiveSignal = signal;
        return receive(clock, signal);
      }),
      release: fromPromise(async ({ input }: { input: { leases: readonly Lease[] } }): Promise<EntryResult> => {
        releasedHandles.push(...input.leases.map((l) => l.receiptHandle));
        return { failed: [] };
      }),
    },
    actions: { returnCredits: (_, n: number) => void released.push(n) },
  });
  const actor = createActor(poller, {
    clock,
    input: { id: 'poller-1', settings: { maxMessages: 10, waitSeconds: 20, backoffBaseMs: 1_000, backoffMaxMs: 8_000, stopGraceMs: 500 } },
  }).start();
  return { clock, actor, released, releasedHandles, signal: () => receiveSignal };
}

test('STOP during an idle long poll: aborted after the grace, not after the 20 s wait; credits back', async (t) => {
  const h = harness((clock) => new Promise<QueueMessage[]>((resolve) => clock.setTimeout(() => resolve([]), 20_000)));
  await idle();
  t.true(h.actor.getSnapshot().matches('receiving'));
  h.actor.send({ type: 'STOP' });
  await idle();
  h.clock.increment(499);
  await idle();
  t.is(h.actor.getSnapshot().status, 'active', 'a receive may still answer within the grace');
  h.clock.increment(1);
  await idle();
  t.is(h.actor.getSnapshot().status, 'done', 'stopped 500 ms after STOP, not 20 s');
  t.true(h.signal()?.aborted, 'the long poll was aborted');
  t.deepEqual(h.released, [10], 'its credits went back');
});

test('STOP while a receive answers within the grace: what it returned is released, not left invisible', async (t) => {
  const messages: QueueMessage[] = [1, 2, 3].map((i) => ({ messageId: `m${i}`, receiptHandle: `r${i}`, body: '{}', receiveCount: 1 }));
  const h = harness((clock) => new Promise<QueueMessage[]>((resolve) => clock.setTimeout(() => resolve(messages), 100)));
  await idle();
  h.actor.send({ type: 'STOP' });
  await idle();
  h.clock.increment(100);
  await idle();
  t.is(h.actor.getSnapshot().status, 'done');
  t.false(h.signal()?.aborted, 'not aborted');
  t.deepEqual(h.releasedHandles, ['r1', 'r2', 'r3']);
  t.deepEqual(h.released, [10]);
});
