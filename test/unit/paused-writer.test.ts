/** A writer whose table is paused (its abandoned storage calls at their cap) takes no work: what may be deferred is. */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import type { Delivery, EntryResult, Lease, Report } from '../../machines/types.ts';
import { writerMachine } from '../../machines/writer.ts';
import { writerSettings } from '../support/writer-settings.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

const delivery = (i: number, receiveCount = 1): Delivery => ({
  visit: { visitId: `v${i}`, type: 'referrer', createdAt: 1_764_000_000_000, url: 'test.com' },
  messageId: `m${i}`,
  receiptHandle: `r${i}`,
  receiveCount,
});

function pausedWriter(state: { paused: boolean }) {
  const clock = new SimulatedClock();
  const written: string[] = [];
  const deferred: Array<{ ids: string[]; seconds: number }> = [];
  const reports: Report[] = [];
  const batch = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async ({ input }: { input: { type: 'type-in' | 'referrer'; deliveries: readonly Delivery[] } }) => {
        written.push(...input.deliveries.map((d) => d.messageId));
      }),
      acknowledge: fromPromise<EntryResult, { leases: readonly Lease[] }>(async () => ({ failed: [] })),
    },
  });
  const writer = writerMachine.provide({
    actors: {
      batch,
      defer: fromPromise(async ({ input }: { input: { leases: ReadonlyArray<{ messageId: string; receiptHandle: string }>; seconds: number } }) => {
        deferred.push({ ids: input.leases.map((l) => l.messageId), seconds: input.seconds });
      }),
    },
    actions: { report: (_, r: Report) => void reports.push(r) },
    // Alone on the queue: only a pause can make this writer defer.
    guards: { paused: () => state.paused, othersActive: () => false, degraded: () => false },
  });
  const settings = writerSettings({
    batchSize: 2,
    lingerMs: 0,
    share: { maxHolding: 100, deferUpToReceive: 2, deferSeconds: 30, deferBusySeconds: 2, deferMaxSeconds: 900 },
  });
  const actor = createActor(writer, { clock, input: { type: 'referrer', settings } }).start();
  return { actor, written, deferred, reports };
}

test('paused: visits are deferred as for a failing table, whatever the share; later receives are kept', async (t) => {
  const state = { paused: true };
  const { actor, written, deferred, reports } = pausedWriter(state);
  actor.send({ type: 'VISITS', deliveries: [delivery(1), delivery(2, 2), delivery(3, 3), delivery(4, 3)] });
  await settle();
  t.deepEqual(deferred, [
    { ids: ['m1'], seconds: 30 },
    { ids: ['m2'], seconds: 60 },
  ]);
  t.deepEqual(written, ['m3', 'm4'], 'receives past DEFER_UP_TO_RECEIVE are kept and written');
  t.like(
    reports.find((r) => r.kind === 'deferred'),
    { kind: 'deferred', type: 'referrer', count: 2, degraded: true },
  );

  state.paused = false;
  actor.send({ type: 'VISITS', deliveries: [delivery(5), delivery(6)] });
  await settle();
  t.is(deferred.length, 2, 'resumed: nothing more deferred');
  t.deepEqual(written, ['m3', 'm4', 'm5', 'm6']);
  actor.stop();
});
