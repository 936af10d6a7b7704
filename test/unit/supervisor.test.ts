/** The whole actor system on a simulated clock with an in-memory queue: restarts and draining. */
import test from 'ava';
import PQueue from 'p-queue';
import pino from 'pino';
import { createActor, fromPromise, setup, SimulatedClock } from 'xstate';
import { CreditPool } from '../../machines/credit-pool.ts';
import { supervisorMachine } from '../../machines/supervisor.ts';
import type { Report } from '../../machines/types.ts';
import { VISIT_TYPES } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config.ts';
import { provideMachines, supervisorInput } from '../../src/processor/processor.ts';
import { FakeQueue } from '../support/fake-queue.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

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
  await settle();
  t.is(spawns, 1);
  const crash = reports.find((r) => r.kind === 'child-crashed');
  t.truthy(crash, 'the crash is reported');
  t.is(crash?.kind === 'child-crashed' ? crash.child : '', 'poller-1');
  const delay = crash?.kind === 'child-crashed' ? crash.delayMs : 0;
  t.true(delay >= 500 && delay <= 1_000);
  clock.increment(delay - 1);
  await settle();
  t.is(spawns, 1, 'not restarted before the delay');
  clock.increment(1);
  await settle();
  t.is(spawns, 2, 'restarted after the delay');
  t.is(actor.getSnapshot().value, 'running');
  actor.stop();
});

function system(options: { messages: number; writeMs: number; graceMs: number; failWrites?: boolean }) {
  const clock = new SimulatedClock();
  const queue = new FakeQueue(clock);
  const bodies = Array.from({ length: options.messages }, (_, i) =>
    i % 2 === 0
      ? JSON.stringify({ type: 'referrer', created_at: 1_700_000_000_000 + i, visit_id: `v${i}`, url: 'test.com' })
      : JSON.stringify({ type: 'direct', created_at: 1_700_000_000_000 + i, visit_id: `v${i}`, ip: '10.1.2.3' }),
  );
  for (const body of bodies) queue.send(body);
  const written = new Set<string>();
  const storage = {
    backend: 'clocked',
    async writeBatch(_type: unknown, visits: readonly { visitId: string }[], signal: AbortSignal) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, options.writeMs));
      signal.throwIfAborted();
      if (options.failWrites) throw new Error('down');
      for (const v of visits) written.add(v.visitId);
    },
  };
  const config = loadConfig({
    POLLERS: '4',
    BATCH_SIZE: '20',
    MAX_IN_FLIGHT: '100',
    RECEIVE_WAIT_SECONDS: '1',
    SHUTDOWN_GRACE_MS: String(options.graceMs),
  });
  const credits = new CreditPool(config.maxInFlight, Date.now);
  const reports: Report[] = [];
  const machine = provideMachines({
    queue,
    storage: storage as never,
    credits,
    writeLimiters: new Map(VISIT_TYPES.map((v) => [v.name, new PQueue({ concurrency: 2 })])),
    config,
    report: (r) => void reports.push(r),
    logger: pino({ level: 'silent' }),
  });
  const actor = createActor(machine, { clock, input: supervisorInput(config) });
  return { clock, queue, written, credits, actor, reports, bodies };
}

async function runUntil(clock: SimulatedClock, done: () => boolean, stepMs = 10, maxSteps = 20_000) {
  for (let i = 0; i < maxSteps && !done(); i++) {
    await settle();
    clock.increment(stepMs);
  }
}

test('draining loses nothing: written visits are acknowledged, the rest go back to the queue', async (t) => {
  const { clock, queue, written, credits, actor, bodies } = system({ messages: 400, writeMs: 50, graceMs: 10_000 });
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
