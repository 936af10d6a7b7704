/**
 * The supervisor: the root of the processor's actor system.
 *
 *   starting (prepare: check the queue, find its DLQ) -> running -> draining -> stopped
 *                                                  \-> failed
 * running: N pollers and one writer per visit type; a crashed child is restarted after a
 * growing delay, and the credits it held go back to the pool.
 * draining (SHUTDOWN): pollers stop receiving, writers flush and acknowledge; when the grace
 * period is over, writers release what they still hold (visibility 0) and the system stops.
 */
import { assign, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { notProvided } from './not-provided.ts';
import { pollerMachine } from './poller.ts';
import { writerSystemId, type PollerSettings, type Report, type WriterSettings } from './types.ts';
import { writerMachine } from './writer.ts';

export interface SupervisorInput {
  readonly pollerCount: number;
  readonly types: readonly VisitTypeName[];
  readonly pollerSettings: PollerSettings;
  readonly writerSettings: WriterSettings;
  readonly restartBackoff: BackoffOptions;
  readonly shutdownGraceMs: number;
  /** After the grace period, how long releasing may take before the system stops anyway. */
  readonly releaseGraceMs: number;
}

interface SupervisorContext extends SupervisorInput {
  /** Ids of the children alive now. */
  pollers: string[];
  writers: string[];
  restarts: Record<string, number>;
  error: unknown;
}

export type SupervisorEvent =
  | { type: 'SHUTDOWN' }
  | { type: 'RESTART'; child: string }
  | { type: `xstate.error.actor.${string}`; error: unknown }
  | { type: `xstate.done.actor.${string}`; output: unknown };

export interface SupervisorOutput {
  readonly status: 'stopped' | 'failed';
  readonly error?: unknown;
}

/** What prepare may answer: writer settings adjusted to the queues it found (e.g. the redrive policy's receive count). */
export interface PrepareOutput {
  readonly writerSettings?: Partial<WriterSettings>;
}

const pollerId = (index: number) => `poller-${index}`;
const writerId = (type: VisitTypeName) => `writer-${type}`;
const childIdOf = (eventType: string) => eventType.replace(/^xstate\.(error|done)\.actor\./, '');

export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    output: {} as SupervisorOutput,
  },
  actors: {
    /** Checks the queues; may answer a PrepareOutput (typed loosely so a prepare answering nothing fits too). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    prepare: notProvided<any, void>('prepare'),
    poller: pollerMachine,
    writer: writerMachine,
  },
  actions: {
    releaseCredits: (_, _count: number) => {},
    report: (_, _report: Report) => {},
    forget: assign(({ context, event }) => {
      const id = childIdOf(event.type);
      return { pollers: context.pollers.filter((p) => p !== id), writers: context.writers.filter((w) => w !== id) };
    }),
  },
  guards: {
    allStopped: ({ context }) => context.pollers.length === 0 && context.writers.length === 0,
    isChild: ({ context, event }) => {
      const id = childIdOf(event.type);
      return context.pollers.includes(id) || context.writers.includes(id);
    },
  },
  delays: {
    grace: ({ context }) => context.shutdownGraceMs,
    releaseGrace: ({ context }) => context.releaseGraceMs,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, pollers: [], writers: [], restarts: {}, error: undefined }),
  initial: 'starting',
  states: {
    starting: {
      on: { SHUTDOWN: 'stopped' },
      invoke: {
        src: 'prepare',
        onDone: {
          target: 'running',
          actions: assign({
            writerSettings: ({ context, event }) => ({ ...context.writerSettings, ...(event.output as PrepareOutput | undefined)?.writerSettings }),
          }),
        },
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
      },
    },
    running: {
      entry: enqueueActions(({ context, enqueue }) => {
        // Writers first, so pollers find them by systemId from their first dispatch.
        for (const type of context.types) {
          enqueue.spawnChild('writer', { id: writerId(type), systemId: writerSystemId(type), input: { type, settings: context.writerSettings } });
        }
        for (let i = 1; i <= context.pollerCount; i++) {
          enqueue.spawnChild('poller', { id: pollerId(i), input: { id: pollerId(i), settings: context.pollerSettings } });
        }
        enqueue.assign({
          writers: context.types.map(writerId),
          pollers: Array.from({ length: context.pollerCount }, (_, i) => pollerId(i + 1)),
        });
      }),
      on: {
        SHUTDOWN: 'draining',
        'xstate.error.actor.*': {
          guard: 'isChild',
          actions: enqueueActions(({ context, event, enqueue, self }) => {
            const id = childIdOf(event.type);
            const restarts = (context.restarts[id] ?? 0) + 1;
            const delayMs = backoffDelay(restarts, context.restartBackoff);
            const held = (self.getSnapshot().children[id] as AnyActorRef | undefined)?.getSnapshot()?.context?.holding;
            enqueue({ type: 'report', params: { kind: 'child-crashed', child: id, restarts, delayMs, error: (event as { error: unknown }).error } });
            if (typeof held === 'number' && held > 0) enqueue({ type: 'releaseCredits', params: held });
            enqueue.stopChild(id);
            enqueue.assign({ restarts: { ...context.restarts, [id]: restarts } });
            enqueue.raise({ type: 'RESTART', child: id }, { delay: delayMs });
          }),
        },
        RESTART: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const id = event.child;
            const type = context.types.find((t) => writerId(t) === id);
            if (type) {
              enqueue.spawnChild('writer', { id, systemId: writerSystemId(type), input: { type, settings: context.writerSettings } });
            } else {
              enqueue.spawnChild('poller', { id, input: { id, settings: context.pollerSettings } });
            }
          }),
        },
      },
    },
    draining: {
      entry: enqueueActions(({ context, enqueue }) => {
        for (const id of context.pollers) enqueue.sendTo(id, { type: 'STOP' });
        for (const id of context.writers) enqueue.sendTo(id, { type: 'DRAIN' });
      }),
      on: {
        'xstate.done.actor.*': { guard: 'isChild', actions: 'forget' },
        // A child crashing while draining is not restarted: its leases expire on their own.
        'xstate.error.actor.*': { guard: 'isChild', actions: 'forget' },
      },
      always: { guard: 'allStopped', target: 'stopped' },
      initial: 'graceful',
      states: {
        graceful: {
          after: { grace: 'releasing' },
        },
        releasing: {
          entry: enqueueActions(({ context, enqueue }) => {
            for (const id of context.writers) enqueue.sendTo(id, { type: 'ABORT' });
          }),
          after: { releaseGrace: '#supervisor.stopped' },
        },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }) => (context.error === undefined ? { status: 'stopped' } : { status: 'failed', error: context.error }),
});
