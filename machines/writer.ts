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
import type { Delivery, Report, WriterSettings } from './types.ts';

export interface WriterInput {
  readonly type: VisitTypeName;
  readonly settings: WriterSettings;
}

interface WriterContext extends WriterInput {
  buffer: Delivery[];
  /** Ids of the batch actors still running. */
  batches: string[];
  nextBatch: number;
}

export type WriterEvent =
  | { type: 'VISITS'; deliveries: readonly Delivery[] }
  | { type: 'DRAIN' }
  | { type: 'ABORT' }
  | { type: `xstate.done.actor.${string}`; output: BatchOutput; actorId: string };

const buffer = lingerBufferStates('VISITS', 'flush');

export const writerMachine = setup({
  types: {
    input: {} as WriterInput,
    context: {} as WriterContext,
    events: {} as WriterEvent,
  },
  actors: { batch: batchMachine },
  actions: {
    /** Returns credits to the pool for the pollers; provided by the processor. */
    returnCredits: (_, _count: number) => {},
    report: (_, _report: Report) => {},
    append: assign(({ context, event }) => {
      const deliveries = (event as Extract<WriterEvent, { type: 'VISITS' }>).deliveries;
      return { buffer: context.buffer.concat(deliveries) };
    }),
    /** Spawns batches of at most batchSize; `all` also flushes a partial batch. */
    flush: enqueueActions(({ context, enqueue }, params: { all: boolean }) => {
      const { batchSize } = context.settings;
      let buffer = context.buffer;
      const batches = [...context.batches];
      let next = context.nextBatch;
      while (buffer.length >= batchSize || (params.all && buffer.length > 0)) {
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
      return { batches: context.batches.filter((b) => b !== id) };
    }),
    abortBatches: enqueueActions(({ context, enqueue }) => {
      for (const id of context.batches) enqueue.sendTo(id, { type: 'ABORT' });
    }),
  },
  guards: {
    bufferFull: ({ context }) => context.buffer.length >= context.settings.batchSize,
    bufferEmpty: ({ context }) => context.buffer.length === 0,
    idle: ({ context }) => context.buffer.length === 0 && context.batches.length === 0,
  },
  delays: {
    linger: ({ context }) => context.settings.lingerMs,
  },
}).createMachine({
  id: 'writer',
  context: ({ input }) => ({ ...input, buffer: [], batches: [], nextBatch: 1 }),
  initial: 'open',
  on: {
    'xstate.done.actor.*': {
      actions: [
        'batchFinished',
        { type: 'returnCredits', params: ({ event }) => (event as { output: BatchOutput }).output.count },
        // A finished child stays in the snapshot with its deliveries until stopped: free it.
        stopChild(({ event }) => (event as { actorId: string }).actorId),
      ],
    },
  },
  states: {
    ...buffer,
    draining: { ...buffer.draining, on: { ...buffer.draining.on, ABORT: { actions: 'abortBatches' } } },
  },
});
