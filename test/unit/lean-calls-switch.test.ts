/** The switch that sends the per-message calls through the SDK: on by default, off on request, anything else refused. */
import test from 'ava';
import { ConfigError } from '../../src/platform/config.ts';
import { leanCallsFrom } from '../../src/processor/config/config.ts';

test('SQS_LEAN_CALLS: unset, empty or on keeps the lean calls; off sends them through the SDK; other values are refused', (t) => {
  t.true(leanCallsFrom({}));
  t.true(leanCallsFrom({ SQS_LEAN_CALLS: '' }));
  t.true(leanCallsFrom({ SQS_LEAN_CALLS: 'on' }));
  t.false(leanCallsFrom({ SQS_LEAN_CALLS: 'off' }));
  for (const value of ['OFF', 'false', '0', 'no'])
    t.throws(() => leanCallsFrom({ SQS_LEAN_CALLS: value }), { instanceOf: ConfigError, message: /use on \(default\) or off/ });
});
