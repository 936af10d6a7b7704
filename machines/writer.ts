/**
 * The writer of one visit type: buffers deliveries and flushes a batch when the buffer
 * is full or has lingered long enough. Each flush spawns a batch actor (machines/batch.ts)
 * that owns the write, the lease heartbeat, retries, acknowledgement or release, so a
 * slow write never stops the writer from buffering the next one.
 *
 *   open.idle -> open.filling -> (size | linger) flush -> open.idle
 *   draining: flush everything, wait for every batch to finish -> stopped
 */
import { assign, enqueueActions, setup, stopChild } from 'xstate';
import { lingerBufferStates } from './linger-buffer.ts';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { batchMachine, type BatchOutput } from './batch.ts';
import { admit } from './isolation.ts';
import { notProvided } from './not-provided.ts';
import type { Delivery, Report, WriterSettings } from './types.ts';

export interface WriterInput {
  readonly type: VisitTypeName;
  readonly settings: WriterSettings;
}

interface WriterContext extends WriterInput {
  buffer: Delivery[];
  /** Ids of the batch actors still running. */
  batches: string[];
  /** Visits buffered or in running batches: what counts against this type's share. */
  holding: number;
  nextBatch: number;
}

export type WriterEvent =
  | { type: 'VISITS'; deliveries: readonly Delivery[] }
  | { type: 'DRAIN' }
  | { type: 'ABORT' }
  | { type: `xstate.done.actor.${string}`; output: BatchOutput; actorId: string };

const writerSetup = setup({
  types: {
    input: {} as WriterInput,
    context: {} as WriterContext,
    events: {} as WriterEvent,
  },
  actors: {
    batch: batchMachine,
    /** Hands visits beyond this type's share back to SQS with a visibility delay; never rejects. */
    defer: notProvided<void, { leases: ReadonlyArray<{ messageId: string; receiptHandle: string }>; seconds: number }>('defer'),
  },
  actions: {
    /** Returns credits to the pool for the pollers; provided by the processor. */
    returnCredits: (_, _count: number) => {},
    report: (_, _report: Report) => {},
    append: assign(({ context, event }) => {
      const deliveries = (event as Extract<WriterEvent, { type: 'VISITS' }>).deliveries;
      return { buffer: context.buffer.concat(deliveries), holding: context.holding + deliveries.length };
    }),

    /** Spawns batches of at most batchSize; `all` also flushes a partial batch. */
    flush: enqueueActions(({ context, enqueue }, params: { all: boolean }) => {
      const { batchSize } = context.settings;
      const due = (buffer: readonly Delivery[]) => buffer.length >= batchSize || (params.all && buffer.length > 0);
      // Most visits arrive without filling a batch: nothing to spawn, nothing to assign.
      if (!due(context.buffer)) return;
      let buffer = context.buffer;
      const batches = [...context.batches];
      let next = context.nextBatch;
      while (due(buffer)) {
        const deliveries = buffer.slice(0, batchSize);
        buffer = buffer.slice(batchSize);
        const id = `batch-${context.type}-${next++}`;
        batches.push(id);
        enqueue.spawnChild('batch', {
          id,
          input: { type: context.type, deliveries, settings: context.settings },
        });
      }
      enqueue.assign({ buffer, batches, nextBatch: next });
    }),
    batchFinished: assign(({ context, event }) => {
      const id = (event as { actorId: string }).actorId;
      return { batches: context.batches.filter((b) => b !== id), holding: context.holding - (event as { output: BatchOutput }).output.count };
    }),
    abortBatches: enqueueActions(({ context, enqueue }) => {
      for (const id of context.batches) enqueue.sendTo(id, { type: 'ABORT' });
    }),
  },
  guards: {
    /** Whether this type's storage is failing (its circuit is not closed); provided by the processor. */
    degraded: () => false,
    /** Whether this type's storage has as many abandoned calls pending as allowed: it takes no work; provided by the processor. */
    paused: () => false,
    /** Whether another visit type has work now or had some moment ago: only then is this type held to its share. */
    othersActive: () => true,
    isBatch: ({ context, event }) => context.batches.includes((event as { actorId: string }).actorId),
    bufferFull: ({ context }) => context.buffer.length >= context.settings.batchSize,
    bufferEmpty: ({ context }) => context.buffer.length === 0,
    idle: ({ context }) => context.buffer.length === 0 && context.batches.length === 0,
  },
  delays: {
    linger: ({ context }) => context.settings.lingerMs,
  },
});

/** Keeps what fits in this type's share and defers the rest, so a failing type cannot take every credit. */
const admitVisits = writerSetup.enqueueActions(({ context, event, enqueue, check }) => {
  const { deliveries } = event as Extract<WriterEvent, { type: 'VISITS' }>;
  const share = context.settings.share;
  // A paused table (its abandoned storage calls at their cap) takes no work: every visit that may
  // be deferred is, as for a failing table. Without a share (one type) its batches retry, then release.
  const paused = share !== undefined && check('paused');
  // Alone on the queue a type may use the whole budget; the share is there to leave room for others.
  // Within its share nothing is deferred, whatever the others do.
  if (!paused && (!share || context.holding + deliveries.length <= share.maxHolding || !check('othersActive'))) {
    enqueue.assign({ buffer: context.buffer.concat(deliveries), holding: context.holding + deliveries.length });
    return;
  }
  const degraded = paused || check('degraded');
  const { keep, defer } = admit(deliveries, context.holding, degraded, paused ? { ...share!, maxHolding: 0 } : share!);
  enqueue.assign({ buffer: context.buffer.concat(keep), holding: context.holding + keep.length });
  const deferred = defer.reduce((sum, group) => sum + group.deliveries.length, 0);
  defer.forEach((group, i) => {
    enqueue.spawnChild('defer', { id: `defer-${context.type}-${context.nextBatch}-${i}`, input: { leases: group.deliveries, seconds: group.seconds } });
  });
  if (defer.length > 0) enqueue.assign({ nextBatch: context.nextBatch + 1 });
  if (deferred > 0) {
    enqueue({ type: 'returnCredits', params: deferred });
    enqueue({ type: 'report', params: { kind: 'deferred', type: context.type, count: deferred, holding: context.holding + keep.length, degraded } });
  }
});

const buffer = lingerBufferStates('VISITS', 'flush', admitVisits);

export const writerMachine = writerSetup.createMachine({
  id: 'writer',
  context: ({ input }) => ({ ...input, buffer: [], batches: [], holding: 0, nextBatch: 1 }),
  initial: 'open',
  on: {
    'xstate.done.actor.*': [
      {
        guard: 'isBatch',
        actions: [
          'batchFinished',
          { type: 'returnCredits', params: ({ event }) => (event as { output: BatchOutput }).output.count },
          // A finished child stays in the snapshot with its deliveries until stopped: free it.
          stopChild(({ event }) => (event as { actorId: string }).actorId),
        ],
      },
      // A deferral finished: its credits went back when it started.
      { actions: stopChild(({ event }) => (event as { actorId: string }).actorId) },
    ],
  },
  states: {
    ...buffer,
    draining: { ...buffer.draining, on: { ...buffer.draining.on, ABORT: { actions: 'abortBatches' } } },
  },
});
