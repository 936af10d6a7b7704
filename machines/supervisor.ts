/**
 * The supervisor: the root of the processor's actor system.
 *
 *   starting (prepare: check the queue, find its DLQ) -> running -> draining -> stopped
 *                                                  \-> failed
 * running: N pollers, one writer per visit type and a dead-letterer; a crashed child is
 * restarted after a growing delay, and the credits it held go back to the pool.
 * draining (SHUTDOWN): pollers stop receiving, writers flush and acknowledge; when the grace
 * period is over, writers release what they still hold (visibility 0) and the system stops.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { DEAD_LETTERER_ID, deadLettererMachine } from './dead-letterer.ts';
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
  /**
   * With a value, one dead-letterer collects every poller's rejected messages for this long
   * and sends them to the DLQ together; without, each poller sends its own.
   */
  readonly deadLetterLingerMs?: number;
}

interface SupervisorContext extends SupervisorInput {
  /** Ids of the children alive now: the only ones events are sent to. */
  pollers: string[];
  writers: string[];
  /** Ids of crashed children whose restart is scheduled (not alive: nothing is sent to them). */
  restarting: string[];
  restarts: Record<string, number>;
  error: unknown;
}

export type SupervisorEvent =
  | { type: 'SHUTDOWN' }
  | { type: 'RESTART'; child: string }
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId: string }
  | { type: `xstate.done.actor.${string}`; output: unknown; actorId: string };

export interface SupervisorOutput {
  readonly status: 'stopped' | 'failed';
  readonly error?: unknown;
}

/** What prepare may answer: writer settings adjusted to the queues it found (e.g. the redrive policy's receive count). */
export interface PrepareOutput {
  readonly writerSettings?: Partial<WriterSettings>;
}

const pollerId = (index: number) => `poller-${index}`;
/** The actor id of a visit type's writer (its credits are booked under it). */
export const writerId = (type: VisitTypeName) => `writer-${type}`;
const restartId = (child: string) => `restart:${child}`;
/** The child a done/error event is about (XState names it in `actorId`). */
const childIdOf = (event: object) => ('actorId' in event ? String(event.actorId) : '');
const isAlive = (context: SupervisorContext, id: string) => context.pollers.includes(id) || context.writers.includes(id);
const without = (ids: readonly string[], id: string) => ids.filter((other) => other !== id);

const supervisorSetup = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    output: {} as SupervisorOutput,
  },
  actors: {
    /** Checks the queues; may answer a PrepareOutput (typed loosely so a prepare answering nothing fits too). */
    // biome-ignore lint/suspicious/noExplicitAny: typed loosely so a prepare answering nothing fits too
    prepare: notProvided<any, void>('prepare'),
    poller: pollerMachine,
    writer: writerMachine,
    deadLetterer: deadLettererMachine,
  },
  actions: {
    /** Returns every credit a child holds, by its id (the credit ledger), when it is gone. */
    returnCreditsOf: (_, _child: string) => {},
    report: (_, _report: Report) => {},
  },
  guards: {
    allStopped: ({ context }) => context.pollers.length === 0 && context.writers.length === 0,
    isAliveChild: ({ context, event }) => isAlive(context, childIdOf(event)),
    restartPending: ({ context, event }) => event.type === 'RESTART' && context.restarting.includes(event.child),
  },
  delays: {
    grace: ({ context }) => context.shutdownGraceMs,
    releaseGrace: ({ context }) => context.releaseGraceMs,
  },
});

/** A child crashed (or finished while running): report it, return its credits, stop it, restart it after a delay. */
const scheduleRestart = supervisorSetup.enqueueActions(({ context, event, enqueue }) => {
  const id = childIdOf(event);
  const restarts = (context.restarts[id] ?? 0) + 1;
  const delayMs = backoffDelay(restarts, context.restartBackoff);
  const error = 'error' in event ? event.error : new Error(`${id} stopped while running`);
  enqueue({ type: 'report', params: { kind: 'child-crashed', child: id, restarts, delayMs, error } });
  enqueue({ type: 'returnCreditsOf', params: id });
  enqueue.stopChild(id);
  enqueue.assign({
    pollers: without(context.pollers, id),
    writers: without(context.writers, id),
    restarting: [...context.restarting, id],
    restarts: { ...context.restarts, [id]: restarts },
  });
  enqueue.raise({ type: 'RESTART', child: id }, { delay: delayMs, id: restartId(id) });
});

/** A child that finished or crashed while draining: return its credits, stop tracking it. */
const forget = supervisorSetup.enqueueActions(({ context, event, enqueue }) => {
  const id = childIdOf(event);
  enqueue({ type: 'returnCreditsOf', params: id });
  enqueue.stopChild(id);
  enqueue.assign({ pollers: without(context.pollers, id), writers: without(context.writers, id) });
});

export const supervisorMachine = supervisorSetup.createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, pollers: [], writers: [], restarting: [], restarts: {}, error: undefined }),
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
        // Writers (and the dead-letterer, drained like one) first, so pollers find them by systemId from their first dispatch.
        for (const type of context.types) {
          enqueue.spawnChild('writer', { id: writerId(type), systemId: writerSystemId(type), input: { type, settings: context.writerSettings } });
        }
        const deadLetterer = context.deadLetterLingerMs !== undefined;
        if (deadLetterer) {
          enqueue.spawnChild('deadLetterer', { id: DEAD_LETTERER_ID, systemId: DEAD_LETTERER_ID, input: { lingerMs: context.deadLetterLingerMs! } });
        }
        for (let i = 1; i <= context.pollerCount; i++) {
          enqueue.spawnChild('poller', { id: pollerId(i), input: { id: pollerId(i), settings: context.pollerSettings } });
        }
        enqueue.assign({
          writers: [...context.types.map(writerId), ...(deadLetterer ? [DEAD_LETTERER_ID] : [])],
          pollers: Array.from({ length: context.pollerCount }, (_, i) => pollerId(i + 1)),
        });
      }),
      on: {
        SHUTDOWN: 'draining',
        // A child that crashed, or finished when it should not have: stopped now, restarted later.
        // Until then it is not alive, so draining never sends to an actor that no longer exists.
        // The unguarded fallbacks keep a stray event (an actor already stopped) from failing the supervisor.
        'xstate.error.actor.*': [{ guard: 'isAliveChild', actions: scheduleRestart }, {}],
        'xstate.done.actor.*': [{ guard: 'isAliveChild', actions: scheduleRestart }, {}],
        RESTART: {
          guard: 'restartPending',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const id = event.child;
            const type = context.types.find((t) => writerId(t) === id);
            const drained = type !== undefined || id === DEAD_LETTERER_ID;
            if (type) {
              enqueue.spawnChild('writer', { id, systemId: writerSystemId(type), input: { type, settings: context.writerSettings } });
            } else if (id === DEAD_LETTERER_ID) {
              enqueue.spawnChild('deadLetterer', { id, systemId: DEAD_LETTERER_ID, input: { lingerMs: context.deadLetterLingerMs ?? 0 } });
            } else {
              enqueue.spawnChild('poller', { id, input: { id, settings: context.pollerSettings } });
            }
            enqueue.assign({
              restarting: without(context.restarting, id),
              ...(drained ? { writers: [...context.writers, id] } : { pollers: [...context.pollers, id] }),
            });
          }),
        },
      },
    },
    draining: {
      entry: enqueueActions(({ context, enqueue }) => {
        // Restarts still pending are called off: those children are gone and stay gone.
        for (const id of context.restarting) enqueue.cancel(restartId(id));
        enqueue.assign({ restarting: [] });
        for (const id of context.pollers) enqueue.sendTo(id, { type: 'STOP' });
        for (const id of context.writers) enqueue.sendTo(id, { type: 'DRAIN' });
      }),
      on: {
        'xstate.done.actor.*': { guard: 'isAliveChild', actions: forget },
        // A child crashing while draining is not restarted: its credits come back, its leases expire on their own.
        'xstate.error.actor.*': [
          {
            guard: 'isAliveChild',
            actions: [
              {
                type: 'report',
                params: ({ event }) => ({
                  kind: 'child-crashed',
                  child: childIdOf(event),
                  restarts: 0,
                  delayMs: -1,
                  error: (event as { error: unknown }).error,
                }),
              },
              forget,
            ],
          },
          {},
        ],
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
