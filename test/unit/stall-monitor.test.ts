/** The stall monitor's rules, counted in its own ticks: one warning per tick while stuck, none once healthy or not running. */
import test from 'ava';
import type { Health } from '../../src/processor/runtime/health.ts';
import { startStallMonitor } from '../../src/processor/runtime/stall-monitor.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const stuck: Health = { ok: false, state: 'running', problems: ['writer-referrer holds 20 visit(s) and has written none for 4 s'] };
const draining: Health = { ok: false, state: 'draining', problems: ['supervisor is draining, not running'] };
const healthy: Health = { ok: true, state: 'running', problems: [] };

test('one warning per tick while stuck, naming the problem; none once healthy, none while not running', async (t) => {
  const script = [stuck, stuck, healthy, healthy, draining, stuck];
  const { lines, logger } = capturedLogger<{ msg: string; problems: string[] }>('warn');
  let ticks = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const stop = startStallMonitor({
    health: () => {
      const health = script[ticks] ?? healthy;
      ticks += 1;
      if (ticks === script.length) done();
      return health;
    },
    logger,
    intervalMs: 1,
  });
  t.teardown(stop);
  // The monitor's timer is unref'd (it never keeps the processor alive): this one keeps the test's
  // process up until the ticks are in. Counted in the monitor's own ticks (each asks for health once), not in time.
  const keepAlive = setInterval(() => {}, 60_000);
  await finished;
  clearInterval(keepAlive);
  stop();
  t.deepEqual(
    lines.map((l) => l.msg),
    [`processor stalled: ${stuck.problems[0]}`, `processor stalled: ${stuck.problems[0]}`, `processor stalled: ${stuck.problems[0]}`],
  );
  t.deepEqual(lines[0].problems, stuck.problems);
});
