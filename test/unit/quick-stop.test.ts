/** STOP aborts a poller's long poll at once: an idle processor does not wait out RECEIVE_WAIT_SECONDS. */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { pollerMachine } from '../../machines/poller.ts';
import type { QueueMessage } from '../../machines/types.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('STOP during a long poll stops the poller at once, aborts the receive and returns its credits', async (t) => {
  const clock = new SimulatedClock();
  const released: number[] = [];
  let receiveSignal: AbortSignal | undefined;
  const poller = pollerMachine.provide({
    actors: {
      acquireCredits: fromPromise(async () => 10),
      // A long poll on an empty queue: answers only after 20 s of the clock.
      receiveMessages: fromPromise(({ signal }: { signal: AbortSignal }) => {
        receiveSignal = signal;
        return new Promise<QueueMessage[]>((resolve) => clock.setTimeout(() => resolve([]), 20_000));
      }),
    },
    actions: { releaseCredits: (_, n: number) => void released.push(n) },
  });
  const actor = createActor(poller, {
    clock,
    input: { id: 'poller-1', settings: { maxMessages: 10, waitSeconds: 20, backoffBaseMs: 1_000, backoffMaxMs: 8_000 } },
  }).start();
  await settle();
  t.is(actor.getSnapshot().value, 'receiving');
  actor.send({ type: 'STOP' });
  await settle();
  t.is(actor.getSnapshot().status, 'done', 'stopped without the clock moving');
  t.true(receiveSignal?.aborted, 'the long poll was aborted');
  t.deepEqual(released, [10], 'its credits went back');
});
