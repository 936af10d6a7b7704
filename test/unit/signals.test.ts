/** Shutdown signals: the first drains, a repeat within a second is ignored, a later one forces. */
import test from 'ava';
import { handleSignals } from '../../src/processor/runtime/signals.ts';

test('a duplicate signal is ignored, a later second signal forces the exit', (t) => {
  let clock = 0;
  const seen: string[] = [];
  const dispose = handleSignals({ onFirst: (s) => seen.push(`drain:${s}`), onSecond: (s) => seen.push(`force:${s}`) }, () => clock);
  t.teardown(dispose);
  process.emit('SIGTERM', 'SIGTERM');
  clock = 200;
  process.emit('SIGINT', 'SIGINT');
  t.deepEqual(seen, ['drain:SIGTERM'], 'the same request delivered twice');
  clock = 1_500;
  process.emit('SIGINT', 'SIGINT');
  t.deepEqual(seen, ['drain:SIGTERM', 'force:SIGINT']);
});
