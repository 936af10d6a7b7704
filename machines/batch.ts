/**
 * One batch of visits of one type, from write to acknowledgement.
 *
 *   active (parallel)
 *     work:  writing -> retrying -> writing ...      (exponential backoff + jitter)
 *     lease: waiting -> extending -> waiting ...     (heartbeat below the visibility timeout)
 *   acknowledging  (DeleteMessageBatch)  -> done
 *   releasing      (visibility 0: SQS counts the receive and its redrive policy dead-letters
 *                   a message that keeps failing; deleting and re-sending would reset the count)
 *
 * All I/O is in the invoked actors named in setup(); the writer spawns one of these per flush.
 */
import { assign, setup } from 'xstate';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { backoffDelay } from './backoff.ts';
import { notProvided } from './not-provided.ts';
import type { BatchSettings, Delivery, Report } from './types.ts';

export interface BatchInput {
  readonly type: VisitTypeName;
  readonly deliveries: readonly Delivery[];
  readonly settings: BatchSettings;
  /** Clock time the batch was flushed, for latency figures. */
  readonly startedAt: number;
}

export type BatchOutcome = 'acknowledged' | 'released';

export interface BatchOutput {
  readonly type: VisitTypeName;
  readonly count: number;
  readonly outcome: BatchOutcome;
}

interface BatchContext extends BatchInput {
  attempt: number;
  retryDelayMs: number;
  ackAttempt: number;
  outcome: BatchOutcome;
  releaseReason: string;
}

export type BatchEvent = { type: 'ABORT' };

function writeFailed(context: BatchContext, error: unknown, willRetry: boolean): Report {
  return {
    kind: 'write-failed',
    type: context.type,
    count: context.deliveries.length,
    attempt: context.attempt,
    willRetry,
    delayMs: willRetry ? context.retryDelayMs : 0,
    error,
  };
}


export const batchMachine = setup({
  types: {
    input: {} as BatchInput,
    context: {} as BatchContext,
    events: {} as BatchEvent,
    output: {} as BatchOutput,
  },
  actors: {
    writeBatch: notProvided<void, { type: VisitTypeName; deliveries: readonly Delivery[] }>('writeBatch'),
    extendVisibility: notProvided<void, { receiptHandles: readonly string[]; seconds: number }>('extendVisibility'),
    acknowledge: notProvided<{ failed: number }, { receiptHandles: readonly string[] }>('acknowledge'),
    release: notProvided<void, { receiptHandles: readonly string[] }>('release'),
  },
  actions: {
    /** Observability hook; the processor provides logging and metrics. */
    report: (_, _report: Report) => {},
  },
  guards: {
    canRetry: ({ context }) => context.attempt < context.settings.writeMaxAttempts,
    canRetryAck: ({ context }) => context.ackAttempt < 3,
  },
  delays: {
    heartbeat: ({ context }) => context.settings.heartbeatMs,
    retryDelay: ({ context }) => context.retryDelayMs,
    ackRetryDelay: ({ context }) => 100 * 2 ** context.ackAttempt,
  },
}).createMachine({
  id: 'batch',
  context: ({ input }) => ({
    ...input,
    attempt: 1,
    retryDelayMs: 0,
    ackAttempt: 0,
    outcome: 'acknowledged',
    releaseReason: '',
  }),
  initial: 'active',
  states: {
    active: {
      type: 'parallel',
      on: {
        ABORT: {
          target: 'releasing',
          actions: assign({ releaseReason: 'shutdown grace period over' }),
        },
      },
      states: {
        work: {
          initial: 'writing',
          states: {
            writing: {
              invoke: {
                src: 'writeBatch',
                input: ({ context }) => ({ type: context.type, deliveries: context.deliveries }),
                onDone: { target: '#batch.acknowledging' },
                onError: [
                  {
                    guard: 'canRetry',
                    target: 'retrying',
                    actions: [
                      assign({
                        retryDelayMs: ({ context }) =>
                          backoffDelay(context.attempt, { baseMs: context.settings.retryBaseMs, maxMs: context.settings.retryMaxMs }),
                      }),
                      { type: 'report', params: ({ context, event }) => writeFailed(context, event.error, true) },
                    ],
                  },
                  {
                    target: '#batch.releasing',
                    actions: [
                      assign({ releaseReason: ({ context }) => `write failed ${context.attempt} times` }),
                      { type: 'report', params: ({ context, event }) => writeFailed(context, event.error, false) },
                    ],
                  },
                ],
              },
            },
            retrying: {
              after: {
                retryDelay: {
                  target: 'writing',
                  actions: assign({ attempt: ({ context }) => context.attempt + 1 }),
                },
              },
            },
          },
        },
        lease: {
          initial: 'waiting',
          states: {
            waiting: {
              after: { heartbeat: 'extending' },
            },
            extending: {
              invoke: {
                src: 'extendVisibility',
                input: ({ context }) => ({
                  receiptHandles: context.deliveries.map((d) => d.receiptHandle),
                  seconds: context.settings.visibilityTimeoutSeconds,
                }),
                onDone: {
                  target: 'waiting',
                  actions: { type: 'report', params: ({ context }) => ({ kind: 'extended', type: context.type, count: context.deliveries.length }) },
                },
                // The next heartbeat tries again; the lease has (visibility - heartbeat) left.
                onError: {
                  target: 'waiting',
                  actions: {
                    type: 'report',
                    params: ({ context, event }) => ({
                      kind: 'extend-failed',
                      type: context.type,
                      count: context.deliveries.length,
                      error: event.error,
                    }),
                  },
                },
              },
            },
          },
        },
      },
    },
    acknowledging: {
      entry: {
        type: 'report',
        params: ({ context }) => ({
          kind: 'written',
          type: context.type,
          count: context.deliveries.length,
          attempts: context.attempt,
          createdAt: context.deliveries.map((d) => d.visit.createdAt),
        }),
      },
      initial: 'deleting',
      states: {
        deleting: {
          invoke: {
            src: 'acknowledge',
            input: ({ context }) => ({ receiptHandles: context.deliveries.map((d) => d.receiptHandle) }),
            onDone: {
              target: '#batch.done',
              actions: {
                type: 'report',
                params: ({ context, event }) => ({
                  kind: 'acknowledged',
                  type: context.type,
                  count: context.deliveries.length,
                  failed: event.output.failed,
                }),
              },
            },
            onError: [
              {
                guard: 'canRetryAck',
                target: 'pausing',
                actions: assign({ ackAttempt: ({ context }) => context.ackAttempt + 1 }),
              },
              {
                // Written but not deleted: SQS redelivers and the upsert by visit_id keeps one row.
                target: '#batch.done',
                actions: {
                  type: 'report',
                  params: ({ context, event }) => ({
                    kind: 'acknowledge-failed',
                    type: context.type,
                    count: context.deliveries.length,
                    error: event.error,
                  }),
                },
              },
            ],
          },
        },
        pausing: {
          after: { ackRetryDelay: 'deleting' },
        },
      },
    },
    releasing: {
      entry: assign({ outcome: 'released' }),
      invoke: {
        src: 'release',
        input: ({ context }) => ({ receiptHandles: context.deliveries.map((d) => d.receiptHandle) }),
        // Either way the message comes back: at once when released, or when its lease expires.
        onDone: {
          target: 'done',
          actions: {
            type: 'report',
            params: ({ context }) => ({ kind: 'released', type: context.type, count: context.deliveries.length, reason: context.releaseReason }),
          },
        },
        onError: {
          target: 'done',
          actions: {
            type: 'report',
            params: ({ context }) => ({
              kind: 'released',
              type: context.type,
              count: context.deliveries.length,
              reason: `${context.releaseReason}; release call failed, lease expires on its own`,
            }),
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ type: context.type, count: context.deliveries.length, outcome: context.outcome }),
});
