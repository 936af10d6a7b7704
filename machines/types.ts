/** Data exchanged between the machines and the adapters that do their I/O. */
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
}

/** A message that failed the contract, on its way to the DLQ. */
export interface RejectedMessage {
  readonly message: QueueMessage;
  readonly rejection: Rejection;
}

/** What the machines tell the outside world (logs, metrics); reporting never changes behaviour. */
export type Report =
  | { kind: 'received'; poller: string; count: number }
  | { kind: 'receive-failed'; poller: string; attempt: number; delayMs: number; error: unknown }
  | { kind: 'dead-lettered'; poller: string; rejected: readonly RejectedMessage[] }
  | { kind: 'dead-letter-failed'; poller: string; count: number; error: unknown }
  | { kind: 'unroutable'; poller: string; type: VisitTypeName; count: number }
  | { kind: 'written'; type: VisitTypeName; count: number; attempts: number; createdAt: readonly number[] }
  | { kind: 'write-failed'; type: VisitTypeName; count: number; attempt: number; willRetry: boolean; delayMs: number; error: unknown }
  /** A write passed WRITE_TIMEOUT_MS: abandoned (its batch retries); `settled` when it finally returned. */
  | { kind: 'write-abandoned'; type: VisitTypeName; count: number; timeoutMs: number }
  | { kind: 'abandoned-write-settled'; type: VisitTypeName; count: number }
  /** Visits beyond the type's share handed back to SQS with a delay; `degraded`: its storage is failing. */
  | { kind: 'deferred'; type: VisitTypeName; count: number; holding: number; degraded: boolean }
  | { kind: 'circuit'; type: VisitTypeName; state: 'open' | 'closed'; openMs?: number }
  | { kind: 'extended'; type: VisitTypeName; count: number }
  | { kind: 'extend-failed'; type: VisitTypeName; count: number; error: unknown }
  | { kind: 'acknowledged'; type: VisitTypeName; count: number; failed: number }
  | { kind: 'acknowledge-failed'; type: VisitTypeName; count: number; error: unknown }
  | { kind: 'released'; type: VisitTypeName | 'poller'; count: number; reason: string }
  /** `delayMs` is -1 when the child is not restarted (it crashed while draining). */
  | { kind: 'child-crashed'; child: string; restarts: number; delayMs: number; error: unknown }
  | { kind: 'state'; actor: string; state: string };

/** Settings of a batch's lifecycle, from configuration. */
export interface BatchSettings {
  readonly heartbeatMs: number;
  readonly visibilityTimeoutSeconds: number;
  readonly writeMaxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

export interface WriterSettings extends BatchSettings {
  readonly batchSize: number;
  /** This type's share of the in-flight budget and how visits beyond it are deferred; absent: no cap. */
  readonly share?: ShareSettings;
  readonly lingerMs: number;
}

export interface PollerSettings {
  readonly maxMessages: number;
  readonly waitSeconds: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** On STOP, how long a receive in flight may still answer before it is taken for an idle long poll and aborted. */
  readonly stopGraceMs?: number;
}

/** The systemId of the writer of a visit type, so pollers find it without a supervisor hop. */
export function writerSystemId(type: VisitTypeName): string {
  return `writer:${type}`;
}
