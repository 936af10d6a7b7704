/** Liveness knobs and the relations that keep memory and lease upkeep bounded, validated at start. */
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/processor/config/config.ts';
import { type RefusedCase, testRefusedConfigs } from '../support/refused-config.ts';

const rejected: RefusedCase[] = [
  // 20,000 batch actors of one visit each: RSS past 1 GB and leases lapsing.
  [{ MAX_IN_FLIGHT: '20000', BATCH_SIZE: '1' }, /^MAX_IN_FLIGHT=20000 is invalid with BATCH_SIZE=1: up to 20000 batches/],
  // Few enough batches, but 1,000 visibility calls per second to keep their leases.
  [
    { MAX_IN_FLIGHT: '2000', BATCH_SIZE: '1', SQS_CONCURRENCY: '4' },
    /^MAX_IN_FLIGHT=2000 is invalid with BATCH_SIZE=1, a heartbeat of 1 s and SQS_CONCURRENCY=4: .* leases would lapse/,
    { heartbeatSeconds: 1 },
  ],
  // The same with the heartbeat a short lease gives.
  [
    { MAX_IN_FLIGHT: '2000', BATCH_SIZE: '1', SQS_CONCURRENCY: '4', VISIBILITY_TIMEOUT_SECONDS: '5' },
    /^MAX_IN_FLIGHT=2000 is invalid with BATCH_SIZE=1, a heartbeat of 1 s and SQS_CONCURRENCY=4: .* leases would lapse/,
  ],
  [{}, /^tuning.sqsConnectTimeoutMs=2000 is invalid: it must not exceed tuning.sqsCallTimeoutMs/, { sqsCallTimeoutMs: 1_000, sqsConnectTimeoutMs: 2_000 }],
  [{}, /^tuning.sqsCallTimeoutMs=0 is invalid: expected an integer from 100/, { sqsCallTimeoutMs: 0 }],
  [
    { RECEIVE_WAIT_SECONDS: '20' },
    /^RECEIVE_WAIT_SECONDS=20 is invalid: with tuning.receiveDeadlineMarginMs \(5000\) the longest healthy receive must stay below tuning.healthMaxSilenceSeconds \(24\)/,
    { healthMaxSilenceSeconds: 24 },
  ],
  [{}, /^tuning.startupMaxAttempts=-1 is invalid/, { startupMaxAttempts: -1 }],
];

testRefusedConfigs(rejected, (env, tuning) => `rejects ${JSON.stringify({ ...env, ...tuning })} with one line naming the variable`);

test('the defaults, the fault suite settings and large batches stay allowed', (t) => {
  const defaults = loadConfig({});
  t.is(defaults.sqsCallTimeoutMs, 10_000);
  t.is(defaults.receiveDeadlineMarginMs, 5_000);
  t.is(defaults.startupMaxAttempts, 0, 'keep trying until stopped');
  t.notThrows(() => loadConfig({ VISIBILITY_TIMEOUT_SECONDS: '5', BATCH_SIZE: '10' }));
  t.notThrows(() => loadConfig({ MAX_IN_FLIGHT: '20000', BATCH_SIZE: '100' }));
  t.notThrows(() => loadConfig({ MAX_IN_FLIGHT: '2000', BATCH_SIZE: '1' }));
});

test('a type share must hold at least one batch; 100 % turns the cap off', (t) => {
  const error = t.throws(() => loadConfig({ MAX_IN_FLIGHT: '100', BATCH_SIZE: '80' }, { typeSharePercent: 60 }), { instanceOf: ConfigError });
  t.regex(
    error!.message,
    /^MAX_IN_FLIGHT=100 is invalid with BATCH_SIZE=80: a type's share \(tuning.typeSharePercent 60 %: 60\) must hold at least one batch$/,
  );
  t.throws(() => loadConfig({}, { typeSharePercent: 40 }), { message: /^tuning.typeSharePercent=40 is invalid: expected an integer from 50 to 100$/ });
  t.is(loadConfig({}).typeSharePercent, 70);
  t.is(loadConfig({}).deferUpToReceive, 4, 'below the redrive policy of the queues this project creates (5)');
  t.notThrows(() => loadConfig({ MAX_IN_FLIGHT: '100', BATCH_SIZE: '80' }, { typeSharePercent: 100 }));
});
