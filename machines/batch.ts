/**
 * One batch of visits of one type, from write to acknowledgement.
 *
 *   active (parallel)
 *     work:   next -> writing -> acknowledging -> next ...   (one group of rows at a time)
 *               writing fails -> retrying (backoff + jitter) -> next
 *               retries exhausted -> the write plan (./batch-plan.ts) splits the group or sets
 *               a row aside -> next
 *             settling: rows set aside go to the DLQ (write_failed) or back to SQS (visibility 0)
 *     lease:  waiting -> extending -> waiting ...             (heartbeat below the visibility timeout)
 *     expiry: fresh -> stale -> lapsed                        (reckoned from receipt, reset by each extension)
 *
 * Lease rules (timings in ./batch-lease.ts): a write starts only while the lease has a write
 * deadline and a margin left (fresh); a message whose lease could not be extended leaves the
 * batch (another consumer may have it); if the whole lease lapses, nothing more is written or deleted.
 * All I/O is in the invoked actors named in setup(); the writer spawns one of these per flush.
 */
import { assign, raise, setup, stateIn } from 'xstate';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import { backoffDelay } from './backoff.ts';
import {
  extendRetryDelayMs,
  freshForMs,
  heartbeatDelayMs,
  LEASE_AT_RECEIPT,
  type LeaseClock,
  renewed,
  staleForMs,
  withoutLost as deliveriesWithoutLost,
} from './batch-lease.ts';
import {
  abandoned,
  afterExhausted,
  canRetry,
  current,
  held,
  initialPlan,
  nextGroup,
  retried,
  skipEmpty,
  withoutLost,
  type WritePlan,
  written,
} from './batch-plan.ts';
import { deadLetterReports } from './dead-letter-reports.ts';
import { WriteNotStarted } from './errors.ts';
import { notProvided } from './not-provided.ts';
import type { BatchSettings, DeadLetter, DeadLetterResult, Delivery, EntryResult, ExtendResult, Lease, Report } from './types.ts';

export { writeFailedReason } from './batch-plan.ts';

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
  plan: WritePlan;
  retryDelayMs: number;
  /** Written rows of the current group not yet deleted. */
  unacked: readonly Delivery[];
  ackAttempt: number;
  lease: LeaseClock;
  written: number;
  deadLettered: number;
  leaseLost: number;
  releaseReason: string;
}

export type BatchEvent = { type: 'ABORT' } | { type: 'RENEWED' } | { type: 'STALE' } | { type: 'LEASES_LOST'; messageIds: readonly string[] };

/** The error of an invoked actor's error event (setup's actions see the machine's own events only). */
const errorOf = (event: unknown) => (event as { error?: unknown }).error;

/** Which leases a release hands back: the rows the plan set aside (settling), or every one held (ABORT). */
type Released = 'set aside' | 'held';

function releasedReport(context: BatchContext, rows: Released, failure: string): Report {
  const [count, reason] = rows === 'held' ? [held(context.plan).length, context.releaseReason] : [context.plan.toRelease.length, context.plan.restReason];
  return { kind: 'released', source: context.type, count, reason: `${reason}${failure}` };
}

/** The report of a failed write of the current group. */
function writeFailed(context: BatchContext, error: unknown, willRetry: boolean, delayMs = 0): Report {
  return { kind: 'write-failed', type: context.type, count: current(context.plan).length, attempt: context.plan.attempt, willRetry, delayMs, error };
}

const batchSetup = setup({
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
    nothingToWrite: ({ context }) => context.plan.groups.length === 0,
    currentEmpty: ({ context }) => current(context.plan).length === 0,
    leaseFresh: stateIn('#batch.active.expiry.fresh'),
    canRetry: ({ context }) => canRetry(context.plan),
    /** The write deadline ran out before storage was called (all write slots busy): not an attempt. */
    notStarted: ({ event }) => errorOf(event) instanceof WriteNotStarted,
    canRetryAck: ({ context }) => context.ackAttempt < context.settings.ackRetries,
    hasDeadLetters: ({ context }) => context.plan.toDeadLetter.length > 0,
    hasReleases: ({ context }) => context.plan.toRelease.length > 0,
    hasFreshTime: ({ context }) => freshForMs(context.lease, context.settings) > 0,
  },
  delays: {
    heartbeat: ({ context }) => heartbeatDelayMs(context.lease, context.settings),
    extendRetry: ({ context }) => extendRetryDelayMs(context.settings),
    freshFor: ({ context }) => Math.max(0, freshForMs(context.lease, context.settings)),
    staleFor: ({ context }) => staleForMs(context.lease, context.settings),
    retryDelay: ({ context }) => context.retryDelayMs,
    ackRetryDelay: ({ context }) => context.settings.ackRetryBaseMs * 2 ** (context.ackAttempt - 1),
  },
});

// Work: writing, retrying, acknowledging, settling what was set aside.

const scheduleRetry = batchSetup.enqueueActions(({ context, event, enqueue }) => {
  const delayMs = backoffDelay(context.plan.attempt, { baseMs: context.settings.retryBaseMs, maxMs: context.settings.retryMaxMs });
  enqueue.assign({ retryDelayMs: delayMs });
  enqueue({ type: 'report', params: writeFailed(context, errorOf(event), true, delayMs) });
});

/** Retries spent: the plan splits the group, or sets a row aside, or gives a lone row at its last receive its budget. */
const planAfterExhausted = batchSetup.enqueueActions(({ context, event, enqueue }) => {
  const { plan, step } = afterExhausted(context.plan, errorOf(event), context.settings);
  if (step.kind !== 'last-receive') enqueue({ type: 'report', params: writeFailed(context, errorOf(event), false) });
  if (step.kind === 'split') enqueue({ type: 'report', params: { kind: 'split', type: context.type, from: step.from, into: step.into } });
  enqueue.assign({ plan });
});

/** The current group was written: report it, and delete it next. */
const groupWritten = batchSetup.enqueueActions(({ context, enqueue }) => {
  const rows = current(context.plan);
  const createdAt = rows.map((d) => d.visit.createdAt);
  enqueue({ type: 'report', params: { kind: 'written', type: context.type, count: rows.length, attempts: context.plan.attempt, createdAt } });
  enqueue.assign({ unacked: rows, ackAttempt: 0, written: context.written + rows.length, plan: written(context.plan) });
});

/** Some deletes failed: only those are tried again. */
const deletesFailed = batchSetup.enqueueActions(({ context, event, enqueue }) => {
  const { failed } = (event as unknown as { output: EntryResult }).output;
  enqueue({ type: 'report', params: { kind: 'entries-failed', call: 'delete', source: context.type, failures: failed } });
  const ids = new Set(failed.map((f) => f.messageId));
  enqueue.assign({ unacked: context.unacked.filter((d) => ids.has(d.messageId)), ackAttempt: context.ackAttempt + 1 });
});

const groupAcknowledged = batchSetup.enqueueActions(({ context, event, enqueue }) => {
  const { failed } = (event as unknown as { output: EntryResult }).output;
  enqueue({ type: 'report', params: { kind: 'acknowledged', type: context.type, count: current(context.plan).length, failed: failed.length } });
});

/** On to the next group once the current one is acknowledged (or its deletes given up). */
const toNextGroup = batchSetup.assign(({ context }) => ({ plan: nextGroup(context.plan, context.settings), unacked: [] }));

const deadLettersSent = batchSetup.enqueueActions(({ context, event, enqueue }) => {
  const result = (event as unknown as { output: DeadLetterResult }).output;
  const reasonOf = (messageId: string) => context.plan.toDeadLetter.find((d) => d.delivery.messageId === messageId)!.reason;
  for (const report of deadLetterReports(context.type, result, reasonOf)) enqueue({ type: 'report', params: report });
  // Whatever the DLQ did not take waits on the PIPELINE (hidden by the queue adapter), not released.
  enqueue.assign({ deadLettered: context.deadLettered + result.sent.length, plan: { ...context.plan, toDeadLetter: [] } });
});

/** The DLQ call failed: the rows are released instead, for a later receive to try again. */
const deadLettersRefused = batchSetup.enqueueActions(({ context: { type, plan }, event, enqueue }) => {
  enqueue({ type: 'report', params: { kind: 'dead-letter-failed', source: type, count: plan.toDeadLetter.length, error: errorOf(event) } });
  enqueue.assign({ plan: { ...plan, toRelease: [...plan.toRelease, ...plan.toDeadLetter.map((d) => d.delivery)], toDeadLetter: [] } });
});

/** A release call answered: the rows it handed back are reported, with the entries SQS did not carry out. */
const released = (rows: Released) =>
  batchSetup.enqueueActions(({ context, event, enqueue }) => {
    const { failed } = (event as unknown as { output: EntryResult }).output;
    enqueue({ type: 'report', params: releasedReport(context, rows, '') });
    enqueue({ type: 'report', params: { kind: 'entries-failed', call: 'release', source: context.type, failures: failed } });
    if (rows === 'set aside') enqueue.assign({ plan: { ...context.plan, toRelease: [] } });
  });

/** A release call failed: the leases end on their own, and the messages come back then. */
const releaseFailed = (rows: Released) =>
  batchSetup.enqueueActions(({ context, enqueue }) => {
    enqueue({ type: 'report', params: releasedReport(context, rows, '; release call failed, lease expires on its own') });
    if (rows === 'set aside') enqueue.assign({ plan: { ...context.plan, toRelease: [] } });
  });

// Lease upkeep (timings in ./batch-lease.ts): the lease and expiry regions run these.

/** An extension succeeded: messages it could not extend leave the batch; the lease counts from this call. */
const leaseExtended = batchSetup.enqueueActions(({ context, event, enqueue }) => {
  const { failed, elapsedMs } = (event as unknown as { output: ExtendResult }).output;
  const lost = new Set(failed.map((f) => f.messageId));
  const messageIds = failed.map((f) => f.messageId);
  enqueue({ type: 'report', params: { kind: 'extended', type: context.type, count: held(context.plan).length } });
  enqueue({ type: 'report', params: { kind: 'entries-failed', call: 'extend', source: context.type, failures: failed } });
  // Another consumer may hold these now: they are never written or deleted through this lease.
  const reason = 'lease could not be extended: taken out of the batch, another consumer may have it';
  // Those already written and waiting for their delete are told apart: they come back and are upserted again.
  const written = context.unacked.map((d) => d.messageId);
  enqueue({ type: 'report', params: { kind: 'lease-lost', type: context.type, messageIds, reason, written } });
  enqueue.assign({
    plan: withoutLost(context.plan, lost),
    unacked: deliveriesWithoutLost(context.unacked, lost),
    leaseLost: context.leaseLost + held(context.plan).filter((d) => lost.has(d.messageId)).length,
    lease: renewed(elapsedMs),
  });
  enqueue.raise({ type: 'RENEWED' });
  enqueue.raise({ type: 'LEASES_LOST', messageIds });
});

/** No extension succeeded in time: everything held is lost to this batch. */
const leaseLapsed = batchSetup.enqueueActions(({ context, enqueue }) => {
  const messageIds = held(context.plan).map((d) => d.messageId);
  const reason = 'lease lapsed: no extension succeeded in time; nothing more is written or deleted';
  const written = context.unacked.map((d) => d.messageId);
  enqueue({ type: 'report', params: { kind: 'lease-lost', type: context.type, messageIds, reason, written } });
  enqueue.assign({ leaseLost: context.leaseLost + messageIds.length, plan: abandoned(context.plan), unacked: [] });
});

export const batchMachine = batchSetup.createMachine({
  id: 'batch',
  context: ({ input }) => ({
    ...input,
    count: input.deliveries.length,
    plan: initialPlan(input.deliveries, input.settings),
    retryDelayMs: 0,
    unacked: [],
    ackAttempt: 0,
    lease: LEASE_AT_RECEIPT,
    written: 0,
    deadLettered: 0,
    leaseLost: 0,
    releaseReason: '',
  }),
  initial: 'active',
  states: {
    active: {
      type: 'parallel',
      on: {
        ABORT: { target: 'releasing', actions: assign({ releaseReason: 'shutdown grace period over' }) },
      },
      states: {
        work: {
          initial: 'next',
          states: {
            next: {
              always: [
                { guard: 'nothingToWrite', target: 'settling' },
                { guard: 'currentEmpty', target: 'next', reenter: true, actions: assign({ plan: ({ context }) => skipEmpty(context.plan) }) },
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
                    params: ({ context, event }) =>
                      writeFailed(context, new Error(`write abandoned: ${event.messageIds.length} of its row(s) lost their lease`), true),
                  },
                },
              },
              invoke: {
                src: 'writeBatch',
                input: ({ context }) => ({ type: context.type, deliveries: current(context.plan) }),
                onDone: { target: 'acknowledging', actions: groupWritten },
                onError: [
                  { guard: 'notStarted', target: 'next' },
                  { guard: 'canRetry', target: 'retrying', actions: scheduleRetry },
                  { target: 'next', actions: planAfterExhausted },
                ],
              },
            },
            retrying: {
              after: { retryDelay: { target: 'next', actions: assign({ plan: ({ context }) => retried(context.plan) }) } },
            },
            acknowledging: {
              invoke: {
                src: 'acknowledge',
                input: ({ context }) => ({ leases: context.unacked }),
                onDone: [
                  {
                    guard: ({ context, event }) => event.output.failed.length > 0 && context.ackAttempt < context.settings.ackRetries,
                    target: 'ackPause',
                    actions: deletesFailed,
                  },
                  // Written but some not deleted: SQS redelivers them and the upsert by visit_id keeps one row.
                  { target: 'next', actions: [groupAcknowledged, toNextGroup] },
                ],
                onError: [
                  { guard: 'canRetryAck', target: 'ackPause', actions: assign({ ackAttempt: ({ context }) => context.ackAttempt + 1 }) },
                  {
                    target: 'next',
                    actions: [
                      {
                        type: 'report',
                        params: ({ context, event }) => ({ kind: 'acknowledge-failed', type: context.type, count: context.unacked.length, error: event.error }),
                      },
                      toNextGroup,
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
                  letters: context.plan.toDeadLetter.map(({ delivery, reason }) => ({
                    messageId: delivery.messageId,
                    receiptHandle: delivery.receiptHandle,
                    body: delivery.body,
                    receiveCount: delivery.receiveCount,
                    reason,
                  })),
                }),
                onDone: { target: 'settling', actions: deadLettersSent },
                onError: { target: 'settling', actions: deadLettersRefused },
              },
            },
            // Released at once (visibility 0): the receive counts, and a later receive dead-letters the row.
            releasingRest: {
              invoke: {
                src: 'release',
                input: ({ context }) => ({ leases: context.plan.toRelease }),
                onDone: { target: '#batch.done', actions: released('set aside') },
                onError: { target: '#batch.done', actions: releaseFailed('set aside') },
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
                input: ({ context }) => ({ leases: held(context.plan), seconds: context.settings.visibilityTimeoutSeconds }),
                onDone: { target: 'waiting', actions: leaseExtended },
                // Tried again soon: the expiry region counts down to the lapse meanwhile.
                onError: {
                  target: 'pausing',
                  actions: {
                    type: 'report',
                    params: ({ context, event }) => ({ kind: 'extend-failed', type: context.type, count: held(context.plan).length, error: event.error }),
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
              entry: leaseLapsed,
              always: { target: '#batch.done' },
            },
          },
        },
      },
    },
    releasing: {
      invoke: {
        src: 'release',
        input: ({ context }) => ({ leases: held(context.plan) }),
        // Either way the message comes back: at once when released, or when its lease expires.
        onDone: { target: 'done', actions: released('held') },
        onError: { target: 'done', actions: releaseFailed('held') },
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
