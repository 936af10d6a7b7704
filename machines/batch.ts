/**
 * One batch of visits of one type, from write to acknowledgement.
 *
 *   active (parallel)
 *     work:   next -> writing -> acknowledging -> next ...   (one group of rows at a time)
 *               writing fails -> retrying (backoff + jitter) -> next
 *               retries exhausted -> split the group in halves (each tried once) until a
 *               failing row stands alone; a lone failing row is set aside (if both halves
 *               of the first split fail, storage refuses them all: released whole, unless
 *               a row is at its last receive)
 *             settling: rows set aside go to the DLQ (write_failed) from their
 *               deadLetterAfterReceives-th receive on, else back to SQS (visibility 0)
 *     lease:  waiting -> extending -> waiting ...             (heartbeat below the visibility timeout)
 *     expiry: fresh -> stale -> lapsed                        (reckoned from receipt, reset by each extension)
 *
 * Lease rules: a write starts only while the lease has a write deadline and a margin left
 * (fresh); a message whose lease could not be extended leaves the batch (another consumer
 * may have it); if the whole lease lapses, nothing more is written or deleted.
 * All I/O is in the invoked actors named in setup(); the writer spawns one of these per flush.
 */
import { assign, enqueueActions, raise, setup, stateIn } from 'xstate';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { backoffDelay } from './backoff.ts';
import { deadLetterReports } from './dead-letter-reports.ts';
import { notProvided } from './not-provided.ts';
import type { BatchSettings, DeadLetter, DeadLetterReason, DeadLetterResult, Delivery, EntryResult, ExtendResult, Lease, Report } from './types.ts';

export interface BatchInput {
  readonly type: VisitTypeName;
  readonly deliveries: readonly Delivery[];
  readonly settings: BatchSettings;
}

export type BatchOutcome = 'acknowledged' | 'released';

export interface BatchOutput {
  readonly type: VisitTypeName;
  /** Deliveries the batch started with (the credits it gives back). */
  readonly count: number;
  /** acknowledged: every visit written; released: some were not (released, dead-lettered or their lease lost). */
  readonly outcome: BatchOutcome;
  readonly written: number;
  readonly deadLettered: number;
  readonly leaseLost: number;
}

interface BatchContext extends BatchInput {
  count: number;
  /** Rows still to write; the first group is the one being written or acknowledged. */
  groups: Delivery[][];
  /** Attempts allowed to the current group: the whole budget first, one per split piece. */
  attemptsAllowed: number;
  /** The batch has been split: every group left is a piece, tried once. */
  split: boolean;
  /**
   * The first split's two halves: if both fail, storage refuses them all rather than one row,
   * and splitting further would only hammer it; rows at their last receive are split anyway.
   */
  halves: 'none' | 'first-pending' | 'first-failed' | 'settled';
  /** Why rows set aside are released (logged). */
  restReason: string;
  attempt: number;
  retryDelayMs: number;
  /** Written rows of the current group not yet deleted. */
  unacked: Delivery[];
  ackAttempt: number;
  /** Rows that kept failing alone: released, or dead-lettered with the storage error as their reason (worked out once). */
  toRelease: Delivery[];
  toDeadLetter: Array<{ delivery: Delivery; reason: DeadLetterReason }>;
  renewed: boolean;
  /** How long the last successful extension call took: SQS may have applied it at its start. */
  renewalLagMs: number;
  written: number;
  released: number;
  deadLettered: number;
  leaseLost: number;
  releaseReason: string;
}

export type BatchEvent = { type: 'ABORT' } | { type: 'RENEWED' } | { type: 'STALE' } | { type: 'LEASES_LOST'; messageIds: readonly string[] };

/** Every delivery whose lease this batch still holds. */
function held(context: BatchContext): Delivery[] {
  return [...context.groups.flat(), ...context.toRelease, ...context.toDeadLetter.map((d) => d.delivery)];
}

/** Milliseconds of lease left at the start of a lease period: from receipt, or from the last extension. */
function leaseLeftMs(context: BatchContext): number {
  const full = context.settings.visibilityTimeoutSeconds * 1000;
  return context.renewed ? full - context.renewalLagMs : full - context.settings.lingerMs;
}

/**
 * The storage error as a DLQ reason: bounded, on one line, with the row's own values cut out
 * (a database error may quote what it refused; the DLQ copy carries the body already).
 */
export function writeFailedReason(error: unknown, delivery: Delivery): string {
  let text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  for (const value of [delivery.visit.visitId, delivery.visit.ip, delivery.visit.url]) {
    if (value) text = text.split(value).join('<redacted>');
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  text = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return `storage refused the row: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}

/** The report for the group being written whose write just failed with `event.error`. */
function writeFailed(willRetry: boolean) {
  return ({ context, event }: { context: BatchContext; event: { error: unknown } }) => ({
    kind: 'write-failed' as const,
    type: context.type,
    count: context.groups[0]?.length ?? 0,
    attempt: context.attempt,
    willRetry,
    delayMs: willRetry ? context.retryDelayMs : 0,
    error: event.error,
  });
}

function dropLost(context: BatchContext, lost: ReadonlySet<string>) {
  const keep = (d: Delivery) => !lost.has(d.messageId);
  return {
    groups: context.groups.map((g) => g.filter(keep)).filter((g, i) => i === 0 || g.length > 0),
    unacked: context.unacked.filter(keep),
    toRelease: context.toRelease.filter(keep),
    toDeadLetter: context.toDeadLetter.filter((d) => keep(d.delivery)),
    leaseLost: context.leaseLost + held(context).filter((d) => lost.has(d.messageId)).length,
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
    extendVisibility: notProvided<ExtendResult, { leases: readonly Lease[]; seconds: number }>('extendVisibility'),
    acknowledge: notProvided<EntryResult, { leases: readonly Lease[] }>('acknowledge'),
    release: notProvided<EntryResult, { leases: readonly Lease[] }>('release'),
    deadLetter: notProvided<DeadLetterResult, { letters: readonly DeadLetter[] }>('deadLetter'),
  },
  actions: {
    /** Observability hook; the processor provides logging and metrics. */
    report: (_, _report: Report) => {},
  },
  guards: {
    nothingToWrite: ({ context }) => context.groups.length === 0,
    currentEmpty: ({ context }) => context.groups[0].length === 0,
    leaseFresh: stateIn('#batch.active.expiry.fresh'),
    canRetry: ({ context }) => context.attempt < context.attemptsAllowed,
    canSplit: ({ context }) => context.groups[0].length > 1,
    /** The write deadline ran out before storage was called (all write slots busy): not an attempt. */
    notStarted: ({ event }) => {
      const error = (event as unknown as { error?: unknown }).error;
      return error instanceof Error && error.name === 'WriteNotStarted';
    },
    canRetryAck: ({ context }) => context.ackAttempt < context.settings.ackRetries,
    hasDeadLetters: ({ context }) => context.toDeadLetter.length > 0,
    hasReleases: ({ context }) => context.toRelease.length > 0,
    hasFreshTime: ({ context }) => leaseLeftMs(context) - context.settings.writeTimeoutMs - context.settings.leaseMarginMs > 0,
  },
  delays: {
    heartbeat: ({ context }) => (context.renewed ? context.settings.heartbeatMs : Math.max(0, context.settings.heartbeatMs - context.settings.lingerMs)),
    extendRetry: ({ context }) => Math.min(context.settings.heartbeatMs, 1_000),
    freshFor: ({ context }) => Math.max(0, leaseLeftMs(context) - context.settings.writeTimeoutMs - context.settings.leaseMarginMs),
    staleFor: ({ context }) => Math.max(0, Math.min(context.settings.writeTimeoutMs, leaseLeftMs(context) - context.settings.leaseMarginMs)),
    retryDelay: ({ context }) => context.retryDelayMs,
    ackRetryDelay: ({ context }) => context.settings.ackRetryBaseMs * 2 ** (context.ackAttempt - 1),
  },
}).createMachine({
  id: 'batch',
  context: ({ input }) => ({
    ...input,
    count: input.deliveries.length,
    groups: input.deliveries.length > 0 ? [[...input.deliveries]] : [],
    attemptsAllowed: input.settings.writeMaxAttempts,
    split: false,
    halves: 'none',
    restReason: 'rows kept failing alone',
    attempt: 1,
    retryDelayMs: 0,
    unacked: [],
    ackAttempt: 0,
    toRelease: [],
    toDeadLetter: [],
    renewed: false,
    renewalLagMs: 0,
    written: 0,
    released: 0,
    deadLettered: 0,
    leaseLost: 0,
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
          initial: 'next',
          states: {
            next: {
              always: [
                { guard: 'nothingToWrite', target: 'settling' },
                { guard: 'currentEmpty', target: 'next', reenter: true, actions: assign({ groups: ({ context }) => context.groups.slice(1) }) },
                { guard: 'leaseFresh', target: 'writing' },
                { target: 'awaitingLease' },
              ],
            },
            // The lease is too short for a write deadline: the lease region extends it at once.
            awaitingLease: {
              always: { guard: 'leaseFresh', target: 'next' },
            },
            writing: {
              on: {
                // A row of this write lost its lease: abandon the write and write the rest again without it.
                LEASES_LOST: {
                  guard: ({ event }) => event.messageIds.length > 0,
                  target: 'next',
                  actions: {
                    type: 'report',
                    params: ({ context, event }) => ({
                      kind: 'write-failed',
                      type: context.type,
                      count: context.groups[0]?.length ?? 0,
                      attempt: context.attempt,
                      willRetry: true,
                      delayMs: 0,
                      error: new Error(`write abandoned: ${event.messageIds.length} of its row(s) lost their lease`),
                    }),
                  },
                },
              },
              invoke: {
                src: 'writeBatch',
                input: ({ context }) => ({ type: context.type, deliveries: context.groups[0] }),
                onDone: {
                  target: 'acknowledging',
                  actions: [
                    assign(({ context }) => ({
                      unacked: context.groups[0],
                      ackAttempt: 0,
                      written: context.written + context.groups[0].length,
                      halves: context.halves === 'none' ? 'none' : 'settled',
                    })),
                    {
                      type: 'report',
                      params: ({ context }) => ({
                        kind: 'written',
                        type: context.type,
                        count: context.groups[0].length,
                        attempts: context.attempt,
                        createdAt: context.groups[0].map((d) => d.visit.createdAt),
                      }),
                    },
                  ],
                },
                onError: [
                  { guard: 'notStarted', target: 'next' },
                  {
                    guard: 'canRetry',
                    target: 'retrying',
                    actions: [
                      assign({
                        retryDelayMs: ({ context }) =>
                          backoffDelay(context.attempt, { baseMs: context.settings.retryBaseMs, maxMs: context.settings.retryMaxMs }),
                      }),
                      { type: 'report', params: writeFailed(true) },
                    ],
                  },
                  {
                    // The first half failed: try the second before splitting, to tell one bad row from a storage refusing all.
                    guard: ({ context }) => context.halves === 'first-pending',
                    target: 'next',
                    actions: [
                      { type: 'report', params: writeFailed(false) },
                      assign(({ context }) => {
                        const [first, second, ...rest] = context.groups;
                        return { groups: [second, first, ...rest], halves: 'first-failed' as const, attempt: 1 };
                      }),
                    ],
                  },
                  {
                    // Both halves failed and no row is at its last receive: released whole, for a later receive.
                    guard: ({ context }) =>
                      context.halves === 'first-failed' && !held(context).some((d) => d.receiveCount >= context.settings.deadLetterAfterReceives),
                    target: 'next',
                    actions: [
                      { type: 'report', params: writeFailed(false) },
                      assign(({ context }) => ({
                        toRelease: [...context.toRelease, ...context.groups.flat()],
                        groups: [],
                        halves: 'settled' as const,
                        restReason: 'both halves of the batch failed: storage refuses them all, not one row',
                      })),
                    ],
                  },
                  {
                    // Find the rows that fail: halves, each tried once, down to single rows.
                    guard: 'canSplit',
                    target: 'next',
                    actions: [
                      { type: 'report', params: writeFailed(false) },
                      {
                        type: 'report',
                        params: ({ context }) => {
                          const n = context.groups[0].length;
                          return { kind: 'split', type: context.type, from: n, into: [Math.ceil(n / 2), Math.floor(n / 2)] };
                        },
                      },
                      assign(({ context }) => {
                        const [current, ...rest] = context.groups;
                        const half = Math.ceil(current.length / 2);
                        return {
                          groups: [current.slice(0, half), current.slice(half), ...rest],
                          attempt: 1,
                          attemptsAllowed: 1,
                          split: true,
                          halves: context.halves === 'none' ? ('first-pending' as const) : ('settled' as const),
                        };
                      }),
                    ],
                  },
                  {
                    // A single row that failed. At its last allowed receive it gets the full retry budget first.
                    guard: ({ context }) =>
                      context.attemptsAllowed < context.settings.writeMaxAttempts &&
                      context.groups[0][0].receiveCount >= context.settings.deadLetterAfterReceives,
                    target: 'next',
                    actions: assign({ attemptsAllowed: ({ context }) => context.settings.writeMaxAttempts }),
                  },
                  {
                    target: 'next',
                    actions: [
                      { type: 'report', params: writeFailed(false) },
                      assign(({ context, event }) => {
                        const [[row], ...rest] = context.groups;
                        const dead = row.receiveCount >= context.settings.deadLetterAfterReceives;
                        return {
                          groups: rest,
                          attempt: 1,
                          attemptsAllowed: context.split ? 1 : context.settings.writeMaxAttempts,
                          toDeadLetter: dead
                            ? [
                                ...context.toDeadLetter,
                                { delivery: row, reason: { code: 'write_failed' as const, message: writeFailedReason(event.error, row) } },
                              ]
                            : context.toDeadLetter,
                          toRelease: dead ? context.toRelease : [...context.toRelease, row],
                        };
                      }),
                    ],
                  },
                ],
              },
            },
            retrying: {
              after: {
                retryDelay: {
                  target: 'next',
                  actions: assign({ attempt: ({ context }) => context.attempt + 1 }),
                },
              },
            },
            acknowledging: {
              invoke: {
                src: 'acknowledge',
                input: ({ context }) => ({ leases: context.unacked }),
                onDone: [
                  {
                    guard: ({ context, event }) => event.output.failed.length > 0 && context.ackAttempt < context.settings.ackRetries,
                    target: 'ackPause',
                    actions: [
                      {
                        type: 'report',
                        params: ({ context, event }) => ({ kind: 'entries-failed', call: 'delete', source: context.type, failures: event.output.failed }),
                      },
                      assign(({ context, event }) => {
                        const failed = new Set(event.output.failed.map((f) => f.messageId));
                        return { unacked: context.unacked.filter((d) => failed.has(d.messageId)), ackAttempt: context.ackAttempt + 1 };
                      }),
                    ],
                  },
                  {
                    // Written but some not deleted: SQS redelivers them and the upsert by visit_id keeps one row.
                    target: 'next',
                    actions: [
                      {
                        type: 'report',
                        params: ({ context, event }) => ({
                          kind: 'acknowledged',
                          type: context.type,
                          count: context.groups[0].length,
                          failed: event.output.failed.length,
                        }),
                      },
                      assign(({ context }) => ({
                        groups: context.groups.slice(1),
                        unacked: [],
                        attempt: 1,
                        attemptsAllowed: context.split ? 1 : context.settings.writeMaxAttempts,
                      })),
                    ],
                  },
                ],
                onError: [
                  {
                    guard: 'canRetryAck',
                    target: 'ackPause',
                    actions: assign({ ackAttempt: ({ context }) => context.ackAttempt + 1 }),
                  },
                  {
                    target: 'next',
                    actions: [
                      {
                        type: 'report',
                        params: ({ context, event }) => ({
                          kind: 'acknowledge-failed',
                          type: context.type,
                          count: context.unacked.length,
                          error: event.error,
                        }),
                      },
                      assign(({ context }) => ({
                        groups: context.groups.slice(1),
                        unacked: [],
                        attempt: 1,
                        attemptsAllowed: context.split ? 1 : context.settings.writeMaxAttempts,
                      })),
                    ],
                  },
                ],
              },
            },
            ackPause: {
              after: { ackRetryDelay: 'acknowledging' },
            },
            settling: {
              always: [{ guard: 'hasDeadLetters', target: 'deadLettering' }, { guard: 'hasReleases', target: 'releasingRest' }, { target: '#batch.done' }],
            },
            deadLettering: {
              invoke: {
                src: 'deadLetter',
                input: ({ context }) => ({
                  letters: context.toDeadLetter.map(({ delivery, reason }) => ({
                    messageId: delivery.messageId,
                    receiptHandle: delivery.receiptHandle,
                    body: delivery.body,
                    receiveCount: delivery.receiveCount,
                    reason,
                  })),
                }),
                onDone: {
                  target: 'settling',
                  actions: [
                    enqueueActions(({ context, event, enqueue }) => {
                      const reasonOf = (messageId: string) => context.toDeadLetter.find((d) => d.delivery.messageId === messageId)!.reason;
                      for (const report of deadLetterReports(context.type, event.output, reasonOf)) enqueue({ type: 'report', params: report });
                    }),
                    // Whatever the DLQ did not take waits on the PIPELINE (hidden by the queue adapter), not released.
                    assign(({ context, event }) => ({ deadLettered: context.deadLettered + event.output.sent.length, toDeadLetter: [] })),
                  ],
                },
                onError: {
                  target: 'settling',
                  actions: [
                    {
                      type: 'report',
                      params: ({ context, event }) => ({
                        kind: 'dead-letter-failed',
                        source: context.type,
                        count: context.toDeadLetter.length,
                        error: event.error,
                      }),
                    },
                    assign(({ context }) => ({ toRelease: [...context.toRelease, ...context.toDeadLetter.map((d) => d.delivery)], toDeadLetter: [] })),
                  ],
                },
              },
            },
            // Released at once (visibility 0): the receive counts, and a later receive dead-letters the row.
            releasingRest: {
              invoke: {
                src: 'release',
                input: ({ context }) => ({ leases: context.toRelease }),
                onDone: {
                  target: '#batch.done',
                  actions: [
                    {
                      type: 'report',
                      params: ({ context }) => ({ kind: 'released', source: context.type, count: context.toRelease.length, reason: context.restReason }),
                    },
                    {
                      type: 'report',
                      params: ({ context, event }) => ({ kind: 'entries-failed', call: 'release', source: context.type, failures: event.output.failed }),
                    },
                    assign(({ context }) => ({ released: context.released + context.toRelease.length, toRelease: [] })),
                  ],
                },
                onError: {
                  target: '#batch.done',
                  actions: [
                    {
                      type: 'report',
                      params: ({ context }) => ({
                        kind: 'released',
                        source: context.type,
                        count: context.toRelease.length,
                        reason: `${context.restReason}; release call failed, lease expires on its own`,
                      }),
                    },
                    assign(({ context }) => ({ released: context.released + context.toRelease.length, toRelease: [] })),
                  ],
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
              on: { STALE: 'extending' },
            },
            extending: {
              invoke: {
                src: 'extendVisibility',
                input: ({ context }) => ({ leases: held(context), seconds: context.settings.visibilityTimeoutSeconds }),
                onDone: {
                  target: 'waiting',
                  actions: [
                    { type: 'report', params: ({ context }) => ({ kind: 'extended', type: context.type, count: held(context).length }) },
                    {
                      type: 'report',
                      params: ({ context, event }) => ({ kind: 'entries-failed', call: 'extend', source: context.type, failures: event.output.failed }),
                    },
                    {
                      type: 'report',
                      params: ({ context, event }) => ({
                        kind: 'lease-lost',
                        type: context.type,
                        messageIds: event.output.failed.map((f) => f.messageId),
                        reason: 'lease could not be extended: taken out of the batch, another consumer may have it',
                      }),
                    },
                    // Another consumer may hold these now: they are never written or deleted through this lease.
                    assign(({ context, event }) => ({
                      ...dropLost(context, new Set(event.output.failed.map((f) => f.messageId))),
                      renewed: true,
                      renewalLagMs: event.output.elapsedMs ?? 0,
                    })),
                    raise({ type: 'RENEWED' }),
                    raise(({ event }) => ({ type: 'LEASES_LOST' as const, messageIds: event.output.failed.map((f) => f.messageId) })),
                  ],
                },
                // Tried again soon: the lease region counts down to the lapse meanwhile.
                onError: {
                  target: 'pausing',
                  actions: {
                    type: 'report',
                    params: ({ context, event }) => ({ kind: 'extend-failed', type: context.type, count: held(context).length, error: event.error }),
                  },
                },
              },
            },
            pausing: {
              after: { extendRetry: 'extending' },
            },
          },
        },
        expiry: {
          initial: 'checking',
          states: {
            // Leases arrive aged by their time in the buffer: maybe already too short for a write.
            checking: {
              always: [{ guard: 'hasFreshTime', target: 'fresh' }, { target: 'stale' }],
            },
            fresh: {
              after: { freshFor: 'stale' },
              on: { RENEWED: { target: 'fresh', reenter: true } },
            },
            stale: {
              entry: raise({ type: 'STALE' }),
              after: { staleFor: 'lapsed' },
              on: { RENEWED: 'fresh' },
            },
            lapsed: {
              entry: [
                {
                  type: 'report',
                  params: ({ context }) => ({
                    kind: 'lease-lost',
                    type: context.type,
                    messageIds: held(context).map((d) => d.messageId),
                    reason: 'lease lapsed: no extension succeeded in time; nothing more is written or deleted',
                  }),
                },
                assign(({ context }) => ({ leaseLost: context.leaseLost + held(context).length, groups: [], unacked: [], toRelease: [], toDeadLetter: [] })),
              ],
              always: { target: '#batch.done' },
            },
          },
        },
      },
    },
    releasing: {
      invoke: {
        src: 'release',
        input: ({ context }) => ({ leases: held(context) }),
        // Either way the message comes back: at once when released, or when its lease expires.
        onDone: {
          target: 'done',
          actions: [
            {
              type: 'report',
              params: ({ context }) => ({ kind: 'released', source: context.type, count: held(context).length, reason: context.releaseReason }),
            },
            {
              type: 'report',
              params: ({ context, event }) => ({ kind: 'entries-failed', call: 'release', source: context.type, failures: event.output.failed }),
            },
            assign(({ context }) => ({ released: context.released + held(context).length })),
          ],
        },
        onError: {
          target: 'done',
          actions: {
            type: 'report',
            params: ({ context }) => ({
              kind: 'released',
              source: context.type,
              count: held(context).length,
              reason: `${context.releaseReason}; release call failed, lease expires on its own`,
            }),
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({
    type: context.type,
    count: context.count,
    outcome: context.written === context.count ? 'acknowledged' : 'released',
    written: context.written,
    deadLettered: context.deadLettered,
    leaseLost: context.leaseLost,
  }),
});
