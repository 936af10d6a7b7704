/** Retry and grace timings are configuration: defaults, relations, and the machines using what they are given. */
import test from 'ava';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { batchMachine } from '../../machines/batch.ts';
import type { BatchSettings, Delivery, EntryResult, Lease } from '../../machines/types.ts';
import { loadConfig } from '../../src/processor/config.ts';
import { supervisorInput } from '../../src/processor/processor.ts';
import { testRefusedConfigs } from '../support/refused-config.ts';
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
    loadConfig({
      POLL_BACKOFF_BASE_MS: '50',
      POLL_BACKOFF_MAX_MS: '900',
      RESTART_BACKOFF_BASE_MS: '10',
      RELEASE_GRACE_MS: '0',
      ACK_RETRIES: '0',
      POLL_STOP_GRACE_MS: '0',
    }),
  );
  t.is(input.pollerSettings.backoffBaseMs, 50);
  t.is(input.pollerSettings.backoffMaxMs, 900);
  t.is(input.pollerSettings.stopGraceMs, 0);
  t.is(input.restartBackoff.baseMs, 10);
  t.is(input.releaseGraceMs, 0);
  t.is(input.writerSettings.ackRetries, 0);
});

const rejected: Array<[Record<string, string>, RegExp]> = [
  [{ POLL_BACKOFF_BASE_MS: '500', POLL_BACKOFF_MAX_MS: '100' }, /^POLL_BACKOFF_MAX_MS=100 is invalid: it must be at least POLL_BACKOFF_BASE_MS \(500\)/],
  [{ RESTART_BACKOFF_MAX_MS: '999' }, /^RESTART_BACKOFF_MAX_MS=999 is invalid: it must be at least RESTART_BACKOFF_BASE_MS \(1000\)/],
  [{ STARTUP_BACKOFF_BASE_MS: '0' }, /^STARTUP_BACKOFF_BASE_MS="0" is invalid: expected an integer from 1/],
  [{ ACK_RETRIES: '21' }, /^ACK_RETRIES="21" is invalid: expected an integer from 0 to 20$/],
  [{ RELEASE_GRACE_MS: 'soon' }, /^RELEASE_GRACE_MS="soon" is invalid/],
];

testRefusedConfigs(rejected, (env) => `rejects ${JSON.stringify(env)} with one line naming the variable`);

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
