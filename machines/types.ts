/**
 * Data exchanged between the machines and the adapters that do their I/O.
 *
 * Words used with one meaning each across machines/ and src/:
 * - release: hand a message's lease back to SQS (visibility 0) so it is received again soon;
 * - return (credits): give credits back to the pool (CreditPool) for the pollers to take;
 * - in flight: credits taken from the MAX_IN_FLIGHT budget (messages held, plus receive slots a
 *   polling poller reserved), as in CreditPool.inFlight and the traffic_in_flight gauge. Messages
 *   SQS hides while their lease runs are "invisible" (ApproximateNumberOfMessagesNotVisible).
 */
import type { Rejection, Visit } from '../src/contract/visit.ts';
import type { VisitTypeName } from '../src/contract/visit-types.ts';
import type { ShareSettings } from './isolation.ts';

/** A message as received from the PIPELINE. */
export interface QueueMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string | undefined;
  readonly receiveCount: number;
}

/** A valid visit on its way to storage, with the lease that must be acknowledged. */
export interface Delivery {
  readonly visit: Visit;
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly receiveCount: number;
  /** The message body as received: what goes to the DLQ if storage keeps refusing the row. */
  readonly body?: string;
}

/** A message that failed the contract, on its way to the DLQ. */
export interface RejectedMessage {
  readonly message: QueueMessage;
  readonly rejection: Rejection;
}

/**
 * What a batch call on the PIPELINE needs of a message: its id (the entry Id) and its lease.
 * Queue messages and deliveries are leases as they are: they are passed to batch calls without a copy.
 */
export interface Lease {
  readonly messageId: string;
  readonly receiptHandle: string;
}

/** One entry of a batch call that SQS did not carry out, with SQS's error code. */
export interface EntryFailure {
  readonly messageId: string;
  readonly code: string;
}

/** The answer of a batch call: the entries that failed, by message id (the rest succeeded). */
export interface EntryResult {
  readonly failed: readonly EntryFailure[];
}

/** The answer of a lease extension: failed entries, and how long the call took (the new lease counts from its start). */
export interface ExtendResult extends EntryResult {
  readonly elapsedMs?: number;
}

/** Why a message goes to the DLQ: a contract rejection, or a row storage kept refusing. */
export interface DeadLetterReason {
  readonly code: Rejection['code'] | 'write_failed';
  readonly message: string;
}

/** A message on its way to the DLQ with its reason. */
export interface DeadLetter extends Lease {
  readonly body: string | undefined;
  readonly receiveCount: number;
  readonly reason: DeadLetterReason;
}

/** What became of each message sent to the DLQ. */
export interface DeadLetterResult {
  /** In the DLQ and gone from the PIPELINE; `reasonKept` says where the reason is. */
  readonly sent: ReadonlyArray<{ readonly messageId: string; readonly reasonKept: 'full' | 'trimmed' | 'log-only' }>;
  /** Not accepted by the DLQ: still on the PIPELINE, tried again later. */
  readonly notSent: readonly EntryFailure[];
  /** In the DLQ but not deleted from the PIPELINE: it comes back and is deleted then, not copied again. */
  readonly notDeleted: readonly EntryFailure[];
}

/** Batch calls whose entries can fail one by one. */
export type BatchCall = 'delete' | 'extend' | 'release' | 'dlq-send' | 'dlq-delete';

/** What the machines tell the outside world (logs, metrics); reporting never changes behaviour. */
export type Report =
  | { kind: 'received'; poller: string; count: number }
  | { kind: 'receive-failed'; poller: string; attempt: number; delayMs: number; error: unknown }
  | {
      kind: 'dead-lettered';
      source: string;
      letters: ReadonlyArray<{ messageId: string; reason: DeadLetterReason; reasonKept: 'full' | 'trimmed' | 'log-only' }>;
    }
  | { kind: 'dead-letter-failed'; source: string; count: number; error: unknown }
  | { kind: 'entries-failed'; call: BatchCall; source: string; failures: readonly EntryFailure[] }
  | { kind: 'lease-lost'; type: VisitTypeName; messageIds: readonly string[]; reason: string; written?: readonly string[] }
  /** An SQS call that failed as a whole (its entries, if any, count as failed); `queue`: the URL it was about. */
  | { kind: 'sqs-call-failed'; call: BatchCall | 'receive'; queue: string; entries: number; error: unknown }
  /** A batch answer that named some entries neither successful nor failed: they count as failed. */
  | { kind: 'entries-unanswered'; call: BatchCall; queue: string; messageIds: readonly string[] }
  /** DLQ copies sent again after an answer that may have been lost (or a call tried twice): possibly in the DLQ twice. */
  | { kind: 'dlq-possible-duplicate'; messageIds: readonly string[]; reason: string }
  | { kind: 'unroutable'; poller: string; type: VisitTypeName; count: number }
  | { kind: 'written'; type: VisitTypeName; count: number; attempts: number; createdAt: readonly number[] }
  | { kind: 'write-failed'; type: VisitTypeName; count: number; attempt: number; willRetry: boolean; delayMs: number; error: unknown }
  /** A write passed WRITE_TIMEOUT_MS: abandoned (its batch retries); `settled` when it finally returned. */
  | { kind: 'write-abandoned'; type: VisitTypeName; count: number; timeoutMs: number }
  | { kind: 'abandoned-write-settled'; type: VisitTypeName; count: number }
  /** Visits beyond the type's share handed back to SQS with a delay; `degraded`: its storage is failing. */
  | { kind: 'deferred'; type: VisitTypeName; count: number; holding: number; degraded: boolean }
  | { kind: 'circuit'; type: VisitTypeName; state: 'open' | 'closed'; openMs?: number }
  /** The table's abandoned storage calls still pending reached `cap`: it takes no work until they return (`storage-resumed`). */
  | { kind: 'storage-paused'; type: VisitTypeName; abandoned: number; cap: number }
  | { kind: 'storage-resumed'; type: VisitTypeName; abandoned: number; cap: number }
  | { kind: 'extended'; type: VisitTypeName; count: number }
  | { kind: 'extend-failed'; type: VisitTypeName; count: number; error: unknown }
  | { kind: 'acknowledged'; type: VisitTypeName; count: number; failed: number }
  | { kind: 'split'; type: VisitTypeName; from: number; into: readonly number[] }
  | { kind: 'acknowledge-failed'; type: VisitTypeName; count: number; error: unknown }
  /** Leases handed back to SQS (visibility 0) by a batch (`source`: its visit type) or a stopping poller (its id). */
  | { kind: 'released'; source: string; count: number; reason: string }
  /** `delayMs` is -1 when the child is not restarted (it crashed while draining). */
  | { kind: 'child-crashed'; child: string; restarts: number; delayMs: number; error: unknown };

/** Settings of a batch's lifecycle, from configuration. */
export interface BatchSettings {
  readonly heartbeatMs: number;
  readonly visibilityTimeoutSeconds: number;
  readonly writeMaxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Longest a visit waits in the writer's buffer: the age of a batch's leases when it starts. */
  readonly lingerMs: number;
  /** Deadline of one storage write: a write starts only on a lease with this much time left. */
  readonly writeTimeoutMs: number;
  /** Allowance for SQS round trips when reckoning how long a lease has left. */
  readonly leaseMarginMs: number;
  /** A row that keeps failing is dead-lettered (write_failed) from this receive on; before, it is released. */
  readonly deadLetterAfterReceives: number;
  /** Deletes of written messages tried again after a failure; the first retry waits ackRetryBaseMs, doubling. */
  readonly ackRetries: number;
  readonly ackRetryBaseMs: number;
}

export interface WriterSettings extends BatchSettings {
  readonly batchSize: number;
  /** This type's share of the in-flight budget and how visits beyond it are deferred; absent: no cap. */
  readonly share?: ShareSettings;
}

export interface PollerSettings {
  readonly maxMessages: number;
  readonly waitSeconds: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** On STOP, how long a receive in flight may still answer before it is taken for an idle long poll and aborted. */
  readonly stopGraceMs: number;
}

/** The systemId of the writer of a visit type, so pollers find it without a supervisor hop. */
export function writerSystemId(type: VisitTypeName): string {
  return `writer:${type}`;
}
