/** The whole actor system on a simulated clock with an in-memory queue: restarts and draining. */
import test from 'ava';
import { createActor, fromPromise, setup, SimulatedClock } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.ts';
import type { Report } from '../../machines/types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { supervisorInput } from '../../src/processor/processor.ts';
import { idle, until } from '../support/idle.ts';
import { mixedVisits, runUntil, simulatedProcessor } from '../support/simulated-processor.ts';

test('a crashed child is restarted after a backoff delay, and only then', async (t) => {
  const clock = new SimulatedClock();
  let spawns = 0;
  const reports: Report[] = [];
  const idleWriter = setup({}).createMachine({});
  const machine = supervisorMachine.provide({
    actors: {
      prepare: fromPromise(async () => {}),
      writer: idleWriter as never,
      poller: fromPromise(async () => {
        spawns += 1;
        if (spawns === 1) throw new Error('poller bug');
        await new Promise(() => {});
      }) as never,
    },
    actions: { report: (_, report: Report) => void reports.push(report) },
  });
  const input = { ...supervisorInput(loadConfig({ POLLERS: '1' })), restartBackoff: { baseMs: 1_000, maxMs: 1_000 } };
  const actor = createActor(machine, { clock, input }).start();
  await until(() => reports.some((r) => r.kind === 'child-crashed'), 'the first poller crashing');
  t.is(spawns, 1);
  const crash = reports.find((r) => r.kind === 'child-crashed');
  t.truthy(crash, 'the crash is reported');
  t.is(crash?.kind === 'child-crashed' ? crash.child : '', 'poller-1');
  const delay = crash?.kind === 'child-crashed' ? crash.delayMs : 0;
  t.true(delay >= 500 && delay <= 1_000);
  clock.increment(delay - 1);
  await idle();
  t.is(spawns, 1, 'not restarted before the delay');
  clock.increment(1);
  await until(() => spawns === 2, 'the restart');
  t.is(spawns, 2, 'restarted after the delay');
  t.is(actor.getSnapshot().value, 'running');
  actor.stop();
});

function system(options: { messages: number; writeMs: number; graceMs: number; failWrites?: boolean }) {
  const bodies = mixedVisits(options.messages);
  const sim = simulatedProcessor({ env: { SHUTDOWN_GRACE_MS: String(options.graceMs) }, writeMs: options.writeMs, failWrites: options.failWrites });
  for (const body of bodies) sim.queue.send(body);
  return { ...sim, bodies };
}

test('draining loses nothing: written visits are acknowledged, the rest go back to the queue', async (t) => {
  const { clock, queue, written, rewritten, credits, actor, bodies } = system({ messages: 400, writeMs: 50, graceMs: 10_000 });
  actor.start();
  await runUntil(clock, () => written.size >= 100);
  t.true(written.size < bodies.length, 'shutdown starts mid-burst');
  actor.send({ type: 'SHUTDOWN' });
  await runUntil(clock, () => actor.getSnapshot().status === 'done');
  t.deepEqual(actor.getSnapshot().output, { status: 'stopped' });
  t.is(queue.invisible, 0, 'nothing left invisible');
  const remaining = new Set([...queue.messages.values()].map((m) => JSON.parse(m.body).visit_id as string));
  for (const id of written) t.false(remaining.has(id), `${id} written and still queued`);
  t.is(written.size + remaining.size, bodies.length, 'every visit is written or still queued');
  t.deepEqual(rewritten(), [], 'no visit written twice');
  t.is(credits.inFlight, 0, 'every credit returned');
});

test('past the grace period, writes still failing are released with visibility 0', async (t) => {
  const { clock, queue, written, actor, reports } = system({ messages: 100, writeMs: 10, graceMs: 2_000, failWrites: true });
  actor.start();
  await runUntil(clock, () => reports.some((r) => r.kind === 'write-failed'));
  actor.send({ type: 'SHUTDOWN' });
  await runUntil(clock, () => actor.getSnapshot().status === 'done');
  t.is(written.size, 0);
  t.is(queue.invisible, 0, 'released, not left to time out');
  t.is(queue.messages.size, 100, 'nothing lost');
  t.true(reports.some((r) => r.kind === 'released' && r.reason === 'shutdown grace period over'));
});
