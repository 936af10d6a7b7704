/**
 * The real supervisor and its machines, wired as the processor wires them (provideMachines), on
 * XState's SimulatedClock with an in-memory queue (FakeQueue): whole-system unit tests (restarts,
 * draining, credits, dead-lettering) without I/O or real time.
 */
import PQueue from 'p-queue';
import pino from 'pino';
import { createActor, SimulatedClock } from 'xstate';
import { CreditPool } from '../../machines/credit-pool.ts';
import type { StoragePort } from '../../machines/ports.ts';
import type { Report } from '../../machines/types.ts';
import { VISIT_TYPES, type VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import type { Tuning } from '../../src/processor/config/tuning.ts';
import { provideMachines, supervisorInput } from '../../src/processor/processor.ts';
import { FakeQueue } from './fake-queue.ts';
import { idle } from './idle.ts';

/** Moves the clock `stepMs` at a time, the system idle before each step, until `done()` holds or `maxSteps` have passed. */
export async function runUntil(clock: SimulatedClock, done: () => boolean, stepMs = 10, maxSteps = 20_000): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) {
    await idle();
    clock.increment(stepMs);
  }
  await idle();
}

/** `count` valid visit bodies, referrer and direct in turn, with visit ids `v0`, `v1`, … */
export function mixedVisits(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? JSON.stringify({ type: 'referrer', created_at: 1_700_000_000_000 + i, visit_id: `v${i}`, url: 'test.com' })
      : JSON.stringify({ type: 'direct', created_at: 1_700_000_000_000 + i, visit_id: `v${i}`, ip: '10.1.2.3' }),
  );
}

export interface SimulatedProcessorOptions {
  /** Configuration on top of 4 pollers, batches of 20, 100 credits and 1 s receives. */
  readonly env?: Record<string, string>;
  /** Values in place of the tuning constants. */
  readonly tuning?: Partial<Tuning>;
  /** Simulated time one storage write takes (default 0), read at each write when a function. */
  readonly writeMs?: number | (() => number);
  /** Every write fails, after its simulated time. */
  readonly failWrites?: boolean;
  /** Awaited before each write's simulated time (e.g. a table that hangs until the write is aborted). */
  readonly beforeWrite?: (type: VisitTypeDefinition, signal: AbortSignal) => Promise<void>;
  /** Called with every report once it is recorded; a throw here crashes the child that reported. */
  readonly onReport?: (report: Report) => void;
  /** Restart backoff of crashed children (default: the configuration's). */
  readonly restartBackoff?: { readonly baseMs: number; readonly maxMs: number };
}

/**
 * The supervisor, not yet started, with what it works on: the clock, the queue, the credits, the
 * reports, and the writes: `written` holds each visit_id written, `writes` how many writes carried
 * it, so a visit written twice shows (`rewritten()`) although an upsert would keep one row.
 */
export function simulatedProcessor(options: SimulatedProcessorOptions = {}, clock = new SimulatedClock(), queue = new FakeQueue(clock)) {
  const written = new Set<string>();
  const writes = new Map<string, number>();
  const rewritten = () => [...writes].filter(([, n]) => n > 1).map(([id]) => id);
  const storage: StoragePort = {
    backend: 'simulated',
    async writeBatch(type, visits, signal) {
      await options.beforeWrite?.(type, signal);
      const writeMs = typeof options.writeMs === 'function' ? options.writeMs() : (options.writeMs ?? 0);
      if (writeMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, writeMs));
      signal.throwIfAborted();
      if (options.failWrites) throw new Error('down');
      for (const v of visits) {
        written.add(v.visitId);
        writes.set(v.visitId, (writes.get(v.visitId) ?? 0) + 1);
      }
    },
  };
  const config = loadConfig({ POLLERS: '4', BATCH_SIZE: '20', MAX_IN_FLIGHT: '100', RECEIVE_WAIT_SECONDS: '1', ...options.env }, options.tuning);
  const credits = new CreditPool(config.maxInFlight, () => clock.now());
  const reports: Report[] = [];
  const machine = provideMachines({
    queue,
    storage,
    credits,
    writeLimiters: new Map(VISIT_TYPES.map((v) => [v.name, new PQueue({ concurrency: 2 })])),
    config,
    report: (r) => {
      reports.push(r);
      options.onReport?.(r);
    },
    logger: pino({ level: 'silent' }),
    now: () => clock.now(),
  });
  const input = { ...supervisorInput(config), ...(options.restartBackoff ? { restartBackoff: options.restartBackoff } : {}) };
  const actor = createActor(machine, { clock, input });
  return { clock, queue, written, writes, rewritten, credits, reports, config, actor };
}
