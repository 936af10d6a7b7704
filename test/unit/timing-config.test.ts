/** Retry and grace timings are configuration: defaults, relations, and the machines using what they are given. */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import type { BatchSettings, Delivery, EntryResult, Lease } from '../../machines/types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { supervisorInput } from '../../src/processor/processor.ts';
import { type RefusedCase, testRefusedConfigs } from '../support/refused-config.ts';
import { idle } from '../support/idle.ts';

test('the defaults are the timings the processor always had, and reach the machines', (t) => {
  const input = supervisorInput(loadConfig({}));
  t.deepEqual(
    { backoffBaseMs: input.pollerSettings.backoffBaseMs, backoffMaxMs: input.pollerSettings.backoffMaxMs, stopGraceMs: input.pollerSettings.stopGraceMs },
    { backoffBaseMs: 500, backoffMaxMs: 30_000, stopGraceMs: 500 },
  );
  t.deepEqual(input.restartBackoff, { baseMs: 1_000, maxMs: 30_000 });
  t.is(input.releaseGraceMs, 5_000);
  t.deepEqual({ ackRetries: input.writerSettings.ackRetries, ackRetryBaseMs: input.writerSettings.ackRetryBaseMs }, { ackRetries: 3, ackRetryBaseMs: 200 });
  const config = loadConfig({});
  t.deepEqual({ base: config.startupBackoffBaseMs, max: config.startupBackoffMaxMs }, { base: 1_000, max: 30_000 });
});

test('set timings reach the machines', (t) => {
  const input = supervisorInput(
    loadConfig(
      {},
      {
        pollBackoffBaseMs: 50,
        pollBackoffMaxMs: 900,
        restartBackoffBaseMs: 10,
        releaseGraceMs: 0,
        ackRetries: 0,
        pollStopGraceMs: 0,
      },
    ),
  );
  t.is(input.pollerSettings.backoffBaseMs, 50);
  t.is(input.pollerSettings.backoffMaxMs, 900);
  t.is(input.pollerSettings.stopGraceMs, 0);
  t.is(input.restartBackoff.baseMs, 10);
  t.is(input.releaseGraceMs, 0);
  t.is(input.writerSettings.ackRetries, 0);
});

const rejected: RefusedCase[] = [
  [{}, /^tuning.pollBackoffMaxMs=100 is invalid: it must be at least tuning.pollBackoffBaseMs \(500\)/, { pollBackoffBaseMs: 500, pollBackoffMaxMs: 100 }],
  [{}, /^tuning.restartBackoffMaxMs=999 is invalid: it must be at least tuning.restartBackoffBaseMs \(1000\)/, { restartBackoffMaxMs: 999 }],
  [{}, /^tuning.startupBackoffBaseMs=0 is invalid: expected an integer from 1/, { startupBackoffBaseMs: 0 }],
  [{}, /^tuning.ackRetries=21 is invalid: expected an integer from 0 to 20$/, { ackRetries: 21 }],
  [{}, /^tuning.releaseGraceMs=NaN is invalid/, { releaseGraceMs: Number.NaN }],
];

testRefusedConfigs(rejected, (_env, tuning) => `rejects tuning ${JSON.stringify(tuning)} with one line naming the value`);

test('a failing acknowledgement is retried ackRetries times, the first retry after ackRetryBaseMs, doubling', async (t) => {
  const clock = new SimulatedClock();
  const calls: number[] = [];
  const machine = batchMachine.provide({
    actors: {
      writeBatch: fromPromise(async () => {}),
      acknowledge: fromPromise<EntryResult, { leases: readonly Lease[] }>(async () => {
        calls.push(clock.now());
        throw new Error('endpoint down');
      }),
    },
  });
  const deliveries: Delivery[] = [
    { visit: { visitId: 'v', type: 'referrer', createdAt: 0, url: 'a.example' }, messageId: 'm', receiptHandle: 'r', receiveCount: 1 },
  ];
  const settings: BatchSettings = {
    heartbeatMs: 10_000,
    visibilityTimeoutSeconds: 30,
    writeMaxAttempts: 1,
    retryBaseMs: 1_000,
    retryMaxMs: 1_000,
    lingerMs: 0,
    writeTimeoutMs: 10_000,
    leaseMarginMs: 1_000,
    deadLetterAfterReceives: 3,
    ackRetries: 2,
    ackRetryBaseMs: 300,
  };
  const actor = createActor(machine, { clock, input: { type: 'referrer', deliveries, settings } }).start();
  for (let i = 0; i < 20 && actor.getSnapshot().status !== 'done'; i++) {
    await idle();
    clock.increment(100);
  }
  t.deepEqual(calls, [0, 300, 900], 'first try, then 300 ms and 600 ms later; no third retry');
  t.is(actor.getSnapshot().status, 'done');
});
