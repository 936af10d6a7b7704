/** One ava test per case: loadConfig refuses the environment with a ConfigError of one line matching the pattern. */
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/processor/config.ts';

export function testRefusedConfigs(
  cases: ReadonlyArray<readonly [Record<string, string>, RegExp]>,
  title = (env: Record<string, string>) => `rejects ${JSON.stringify(env)} with one line`,
): void {
  for (const [env, message] of cases) {
    test(title(env), (t) => {
      const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
      t.regex(error!.message, message);
      t.false(error!.message.includes('\n'));
    });
  }
}
