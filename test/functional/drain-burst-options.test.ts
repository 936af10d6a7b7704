/**
 * `npm run drain-burst` refuses bad options before it starts anything: one line saying what was
 * wrong (the pollers checked by the processor's own configuration, as POLLERS is for npm start),
 * then the usage, exit 2; `--help` prints the usage.
 */
import test from 'ava';
import { runScript } from '../support/run-script.ts';

const USAGE = 'usage: npm run drain-burst [-- [--count N] [--pollers P]]\n';
const runDrainBurst = (...args: string[]) => runScript('scripts/drain-burst.ts', args);

test('npm run drain-burst refuses a bad --count or --pollers in one line, then the usage', async (t) => {
  const count = await runDrainBurst('--count', 'many');
  t.is(count.code, 2);
  t.is(count.stderr, `drain-burst: --count must be a whole number from 1 to 1000000, not "many"\n${USAGE}`);
  const pollers = await runDrainBurst('--pollers', '0');
  t.is(pollers.code, 2);
  t.is(pollers.stderr, `drain-burst: --pollers: POLLERS="0" is invalid: expected an integer from 1 to 256\n${USAGE}`);
  const help = await runDrainBurst('--help');
  t.is(help.code, 0);
  t.is(help.stdout, USAGE);
});
