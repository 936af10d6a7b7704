/** Liveness knobs and the relations that keep memory and lease upkeep bounded, validated at start. */
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/processor/config.ts';
import { testRefusedConfigs } from '../support/refused-config.ts';

const rejected: Array<[Record<string, string>, RegExp]> = [
  // 20,000 batch actors of one visit each: RSS past 1 GB and leases lapsing.
  [{ MAX_IN_FLIGHT: '20000', BATCH_SIZE: '1' }, /^MAX_IN_FLIGHT=20000 is invalid with BATCH_SIZE=1: up to 20000 batches/],
  // Few enough batches, but 1,000 visibility calls per second to keep their leases.
  [
    { MAX_IN_FLIGHT: '2000', BATCH_SIZE: '1', HEARTBEAT_SECONDS: '1', SQS_CONCURRENCY: '4' },
    /^MAX_IN_FLIGHT=2000 is invalid with BATCH_SIZE=1, HEARTBEAT_SECONDS=1 and SQS_CONCURRENCY=4: .* leases would lapse/,
  ],
  [{ SQS_CALL_TIMEOUT_MS: '1000', SQS_CONNECT_TIMEOUT_MS: '2000' }, /^SQS_CONNECT_TIMEOUT_MS=2000 is invalid: it must not exceed SQS_CALL_TIMEOUT_MS/],
  [{ SQS_CALL_TIMEOUT_MS: '0' }, /^SQS_CALL_TIMEOUT_MS="0" is invalid: expected an integer from 100/],
  [{ HEALTH_MAX_SILENCE_SECONDS: '24', RECEIVE_WAIT_SECONDS: '20' }, /^HEALTH_MAX_SILENCE_SECONDS=24 is invalid: it must exceed RECEIVE_WAIT_SECONDS/],
  [{ STARTUP_MAX_ATTEMPTS: '-1' }, /^STARTUP_MAX_ATTEMPTS="-1" is invalid/],
];

testRefusedConfigs(rejected, (env) => `rejects ${JSON.stringify(env)} with one line naming the variable`);

test('the defaults, the fault suite settings and large batches stay allowed', (t) => {
  const defaults = loadConfig({});
  t.is(defaults.sqsCallTimeoutMs, 10_000);
  t.is(defaults.receiveDeadlineMarginMs, 5_000);
  t.is(defaults.startupMaxAttempts, 0, 'keep trying until stopped');
  t.notThrows(() => loadConfig({ VISIBILITY_TIMEOUT_SECONDS: '5', HEARTBEAT_SECONDS: '1', BATCH_SIZE: '10' }));
  t.notThrows(() => loadConfig({ MAX_IN_FLIGHT: '20000', BATCH_SIZE: '100' }));
  t.notThrows(() => loadConfig({ MAX_IN_FLIGHT: '2000', BATCH_SIZE: '1' }));
});

test('a type share must hold at least one batch; 100 % turns the cap off', (t) => {
  const error = t.throws(() => loadConfig({ MAX_IN_FLIGHT: '100', BATCH_SIZE: '80', TYPE_SHARE_PERCENT: '60' }), { instanceOf: ConfigError });
  t.regex(error!.message, /^TYPE_SHARE_PERCENT=60 is invalid with MAX_IN_FLIGHT=100: a type's share \(60\) must hold at least one batch \(BATCH_SIZE=80\)$/);
  t.throws(() => loadConfig({ TYPE_SHARE_PERCENT: '40' }), { message: /^TYPE_SHARE_PERCENT="40" is invalid: expected an integer from 50 to 100$/ });
  t.is(loadConfig({}).typeSharePercent, 70);
  t.is(loadConfig({}).deferUpToReceive, 4, 'below the redrive policy of the queues this project creates (5)');
  t.notThrows(() => loadConfig({ MAX_IN_FLIGHT: '100', BATCH_SIZE: '80', TYPE_SHARE_PERCENT: '100' }));
});
