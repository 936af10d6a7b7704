/**
 * Leases against configuration: linger and write deadline must fit inside the visibility timeout
 * (refused with one line, or adapted when unset), and a visit buffered by the writer is covered
 * from its receipt, not from the flush.
 */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import type { Delivery, EntryResult, ExtendResult, Lease } from '../../machines/types.ts';
import { writerMachine } from '../../machines/writer.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { supervisorInput } from '../../src/processor/processor.ts';
import { type RefusedCase, testRefusedConfigs } from '../support/refused-config.ts';

const refused: RefusedCase[] = [
  [
    { BATCH_LINGER_MS: '45000' },
    /^BATCH_LINGER_MS=45000 is invalid: it must be at most \(VISIBILITY_TIMEOUT_SECONDS 30 - heartbeat 10\) x 1000 - lease margin 1000 = 19000 so buffered visits/,
  ],
  [{ WRITE_TIMEOUT_MS: '25000' }, /^WRITE_TIMEOUT_MS=25000 is invalid: it must be at most .* = 19000 so a write never outlives its lease$/],
  [
    { VISIBILITY_TIMEOUT_SECONDS: '5' },
    /^VISIBILITY_TIMEOUT_SECONDS=5 is invalid: with a heartbeat of 4 s it leaves 0 ms of lease for a write/,
    { heartbeatSeconds: 4 },
  ],
  [
    { VISIBILITY_TIMEOUT_SECONDS: '5' },
    /^VISIBILITY_TIMEOUT_SECONDS=5 is invalid: tuning.deadLetterLingerMs \(3500\) must be at most .* = 3000 so rejected messages reach the DLQ/,
    { deadLetterLingerMs: 3_500 },
  ],
];
testRefusedConfigs(refused, (env, tuning) => `a lease that cannot hold ${JSON.stringify({ ...env, ...tuning })} is refused with one line`);

test('an unset write deadline adapts to a short lease; the writer and batch get the lease settings', (t) => {
  const config = loadConfig({ VISIBILITY_TIMEOUT_SECONDS: '5' });
  t.is(config.heartbeatSeconds, 1, 'a third of the lease, at least a second');
  t.is(config.writeTimeoutMs, 3_000, '(5 - 1) x 1000 - 1000');
  t.is(loadConfig({}).writeTimeoutMs, 10_000, 'the default where it fits');
  const { writerSettings } = supervisorInput(loadConfig({ BATCH_LINGER_MS: '15000' }));
  t.like(writerSettings, { lingerMs: 15_000, writeTimeoutMs: 10_000, leaseMarginMs: 1_000, visibilityTimeoutSeconds: 30, heartbeatMs: 10_000 });
});

test('a visit lingering in the writer has its lease extended 10 s after receipt, not 10 s after the flush', async (t) => {
  const clock = new SimulatedClock();
  const extensions: Array<{ at: number; ids: string[] }> = [];
  const writes: number[] = [];
  const batch = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async () => {
        writes.push(clock.now());
        await new Promise<void>(() => {});
      }),
      extendVisibility: fromPromise(async ({ input }: { input: { leases: readonly Lease[]; seconds: number } }): Promise<ExtendResult> => {
        extensions.push({ at: clock.now(), ids: input.leases.map((l) => l.messageId) });
        return { failed: [] };
      }),
      acknowledge: fromPromise(async (): Promise<EntryResult> => ({ failed: [] })),
    },
  });
  const writer = writerMachine.provide({ actors: { batch } });
  const { writerSettings } = supervisorInput(loadConfig({ BATCH_LINGER_MS: '15000', BATCH_SIZE: '10' }));
  const actor = createActor(writer, { clock, input: { type: 'referrer', settings: writerSettings } }).start();
  const delivery: Delivery = {
    visit: { visitId: 'v1', type: 'referrer', createdAt: 1, url: 'test.com' },
    messageId: 'm1',
    receiptHandle: 'r1',
    receiveCount: 1,
  };
  actor.send({ type: 'VISITS', deliveries: [delivery] });
  for (let at = 0; at < 16_000; at += 500) {
    await new Promise((resolve) => setImmediate(resolve));
    clock.increment(500);
  }
  await new Promise((resolve) => setImmediate(resolve));
  t.is(writes[0], 15_000, 'flushed after lingering 15 s');
  t.deepEqual(extensions[0]?.ids, ['m1']);
  t.true(extensions[0].at <= 15_500, `extended at the flush (${extensions[0].at} ms; 10 s after receipt had passed), not 10 s after it`);
  actor.stop();
});
