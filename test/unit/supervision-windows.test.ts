/**
 * Supervision in every order of events, on a simulated clock with an in-memory queue: SHUTDOWN
 * while a restart is pending, a crash while draining, the last poller crashing, two crashes at
 * once. Children are crashed for real: a report action throws inside the child's transition.
 */
import test from 'ava';
import { mixedVisits, runUntil, simulatedProcessor } from '../support/simulated-processor.ts';

/** Longer than the restart delay (2,000 ms): writes in flight at SHUTDOWN hold the drain open past it. */
const SLOWER_THAN_RESTART_MS = 2_500;

/** Crash points, each used once: `received:poller-1` crashes that poller as it reports a receive. */
type CrashPoint = `received:${string}` | `written:${string}`;

function system(options: { pollers: number; messages: number; writeMs?: number; graceMs?: number }) {
  const armed = new Set<CrashPoint>();
  /** child -> when its restart is due on the simulated clock (crash time + the reported delay). */
  const restartDue = new Map<string, number>();
  /** How long each write takes from now on (a test may slow writes down between phases). */
  const control = { writeMs: options.writeMs ?? 20 };
  const sim = simulatedProcessor({
    env: { POLLERS: String(options.pollers), BATCH_SIZE: '10', MAX_IN_FLIGHT: '60', SHUTDOWN_GRACE_MS: String(options.graceMs ?? 10_000) },
    writeMs: () => control.writeMs,
    restartBackoff: { baseMs: 2_000, maxMs: 2_000 },
    onReport: (r) => {
      if (r.kind === 'child-crashed') restartDue.set(r.child, sim.clock.now() + r.delayMs);
      const point = r.kind === 'received' ? `received:${r.poller}` : r.kind === 'written' ? `written:${r.type}` : undefined;
      if (point && armed.delete(point as CrashPoint)) throw new Error(`crash at ${point}`);
    },
  });
  for (const body of mixedVisits(options.messages)) sim.queue.send(body);
  const crashes = () => sim.reports.filter((r) => r.kind === 'child-crashed');
  return Object.assign(control, sim, { armed, restartDue, crashes, total: options.messages });
}

/** Starts the system, crashes the child at `point` once, and names the child that crashed. */
async function startAndCrash(s: ReturnType<typeof system>, point: CrashPoint): Promise<string> {
  s.armed.add(point);
  s.actor.start();
  await runUntil(s.clock, () => s.crashes().length === 1);
  const crash = s.crashes()[0];
  return crash?.kind === 'child-crashed' ? crash.child : '';
}

/**
 * Sends SHUTDOWN while `child`'s restart is pending and runs the system to its stop, watching the
 * supervisor's children at every step of the clock. The writes in flight (`writeMs` past the
 * restart delay) keep the drain open past the moment the restart would have fired, so a restart
 * that was not called off has the time to spawn the child into the draining system.
 */
async function shutdownWhileRestartPending(t: import('ava').ExecutionContext, s: ReturnType<typeof system>, child: string) {
  const restartAt = s.restartDue.get(child) ?? Number.POSITIVE_INFINITY;
  s.actor.send({ type: 'SHUTDOWN' });
  let respawned = false;
  await runUntil(s.clock, () => {
    if (child in s.actor.getSnapshot().children) respawned = true;
    return s.actor.getSnapshot().status !== 'active';
  });
  t.true(s.clock.now() > restartAt, `the drain outlasted the restart delay (stopped at ${s.clock.now()} ms, restart due at ${restartAt} ms)`);
  t.false(respawned, `${child} was not respawned into the draining system`);
}

/** The end state every window must reach: stopped cleanly, every credit back, nothing lost. */
function assertCleanStop(t: import('ava').ExecutionContext, s: ReturnType<typeof system>) {
  const snapshot = s.actor.getSnapshot();
  t.is(snapshot.status, 'done', `supervisor ${snapshot.status}${snapshot.status === 'error' ? `: ${String(snapshot.error)}` : ''}`);
  t.deepEqual(snapshot.output, { status: 'stopped' });
  t.is(s.credits.inFlight, 0, `every credit returned (held: ${JSON.stringify([...s.credits.holders()])})`);
  const remaining = new Set([...s.queue.messages.values()].map((m) => JSON.parse(m.body).visit_id as string));
  t.is(new Set([...s.written, ...remaining]).size, s.total, 'every visit written or still queued');
  t.deepEqual(s.rewritten(), [], 'no visit written twice');
}

test('SHUTDOWN while a crashed poller waits for its restart: drains the others, never restarts it', async (t) => {
  const s = system({ pollers: 2, messages: 200, writeMs: SLOWER_THAN_RESTART_MS });
  t.is(await startAndCrash(s, 'received:poller-1'), 'poller-1');
  t.is(s.credits.heldBy('poller-1'), 0, 'the crashed poller holds no credit');
  t.deepEqual(s.actor.getSnapshot().context.restarting, ['poller-1']);
  await shutdownWhileRestartPending(t, s, 'poller-1');
  assertCleanStop(t, s);
  t.is(Object.keys(s.actor.getSnapshot().children).length, 0, 'no child left, none respawned');
});

test('SHUTDOWN while a crashed writer waits for its restart: its credits are back and the stop is clean', async (t) => {
  const s = system({ pollers: 2, messages: 200, writeMs: SLOWER_THAN_RESTART_MS });
  t.is(await startAndCrash(s, 'written:referrer'), 'writer-referrer');
  t.is(s.credits.heldBy('writer-referrer'), 0, 'the crashed writer holds no credit');
  const shutdownAt = s.clock.now();
  await shutdownWhileRestartPending(t, s, 'writer-referrer');
  t.true(s.clock.now() - shutdownAt < 10_000, 'stopped before the grace period: no writer left waiting for a DRAIN it never got');
  assertCleanStop(t, s);
});

test('a writer crashing while draining: its credits come back and the supervisor stops without waiting for the grace period', async (t) => {
  const s = system({ pollers: 2, messages: 200, writeMs: 200, graceMs: 60_000 });
  s.actor.start();
  await runUntil(s.clock, () => s.written.size >= 40);
  s.armed.add('written:type-in');
  const shutdownAt = s.clock.now();
  s.actor.send({ type: 'SHUTDOWN' });
  await runUntil(s.clock, () => s.actor.getSnapshot().status !== 'active');
  t.true(
    s.crashes().some((r) => r.kind === 'child-crashed' && r.child === 'writer-type-in' && r.delayMs === -1),
    'crash reported, not restarted',
  );
  t.true(s.clock.now() - shutdownAt < 60_000, 'stopped before the grace period ran out');
  assertCleanStop(t, s);
});

test('the last poller crashing: it is restarted, the burst is drained, then a clean stop', async (t) => {
  const s = system({ pollers: 1, messages: 100 });
  s.armed.add('received:poller-1');
  s.actor.start();
  await runUntil(s.clock, () => s.crashes().length === 1);
  t.deepEqual(s.actor.getSnapshot().context.pollers, [], 'no poller alive while the restart is pending');
  t.is(s.credits.inFlight, 0, 'its credits are back at once');
  await runUntil(s.clock, () => s.written.size === s.total);
  t.is(s.written.size, s.total, 'the restarted poller drained the burst');
  t.deepEqual(s.actor.getSnapshot().context.pollers, ['poller-1']);
  s.actor.send({ type: 'SHUTDOWN' });
  await runUntil(s.clock, () => s.actor.getSnapshot().status !== 'active');
  assertCleanStop(t, s);
});

test('two crashes at once (a poller and a writer): both restart; SHUTDOWN with one restarted and one pending is clean', async (t) => {
  const s = system({ pollers: 3, messages: 300 });
  s.armed.add('received:poller-2');
  s.armed.add('written:referrer');
  s.actor.start();
  await runUntil(s.clock, () => s.crashes().length === 2);
  t.deepEqual([...s.actor.getSnapshot().context.restarting].sort(), ['poller-2', 'writer-referrer']);
  // Let the first restart happen, then crash that child again so one restart is pending at SHUTDOWN.
  await runUntil(s.clock, () => s.actor.getSnapshot().context.restarting.length === 0);
  t.true(s.actor.getSnapshot().context.pollers.includes('poller-2'));
  t.true(s.actor.getSnapshot().context.writers.includes('writer-referrer'));
  s.armed.add('received:poller-2');
  s.writeMs = SLOWER_THAN_RESTART_MS;
  await runUntil(s.clock, () => s.crashes().length === 3);
  t.deepEqual(s.actor.getSnapshot().context.restarting, ['poller-2']);
  await shutdownWhileRestartPending(t, s, 'poller-2');
  assertCleanStop(t, s);
});
