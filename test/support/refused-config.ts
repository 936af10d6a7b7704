/** One ava test per case: loadConfig refuses the environment (and tuning overrides) with a ConfigError of one line matching the pattern. */
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/processor/config/config.ts';
import type { Tuning } from '../../src/processor/config/tuning.ts';

export type RefusedCase = readonly [Record<string, string>, RegExp] | readonly [Record<string, string>, RegExp, Partial<Tuning>];

export function testRefusedConfigs(
  cases: ReadonlyArray<RefusedCase>,
  title = (env: Record<string, string>, tuning?: Partial<Tuning>) =>
    `rejects ${JSON.stringify(env)}${tuning ? ` with tuning ${JSON.stringify(tuning)}` : ''} with one line`,
): void {
  for (const [env, message, tuning] of cases) {
    test(title(env, tuning), (t) => {
      const error = t.throws(() => loadConfig(env, tuning), { instanceOf: ConfigError });
      t.regex(error!.message, message);
      t.false(error!.message.includes('\n'));
    });
  }
}
