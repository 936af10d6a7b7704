/**
 * The ports of the core: what the machines' actors need from the queue and from storage.
 * They are defined here, beside the machines, and the adapters implement them
 * (src/processor/sqs/queue.ts, src/processor/storage/*, and the fakes in test/support).
 */
import type { VisitTypeDefinition } from '../src/contract/visit-types.ts';
import type { Visit } from '../src/contract/visit.ts';
import type { DeadLetter, DeadLetterResult, EntryResult, Lease, QueueMessage } from './types.ts';

/** What the queue told the processor at start. */
export interface QueueFacts {
  readonly dlqUrl: string;
  readonly maxReceiveCount: number | undefined;
  /** The PIPELINE's own VisibilityTimeout attribute (the processor sets its own on each receive). */
  readonly queueVisibilityTimeoutSeconds: number;
}

/** The PIPELINE and its DLQ. Every call honours `signal`; batch calls answer per entry. */
export interface QueuePort {
  readonly queueUrl: string;
  /** Checks the PIPELINE and its DLQ exist. */
  prepare(signal?: AbortSignal): Promise<QueueFacts>;
  /** Long-polls up to `maxMessages` (1 to 10). */
  receive(maxMessages: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]>;
  /** Acknowledges written messages. */
  deleteMessages(leases: readonly Lease[], signal: AbortSignal): Promise<EntryResult>;
  /** Sets the visibility of leased messages: an extension, or 0 to release them. */
  changeVisibility(leases: readonly Lease[], seconds: number, signal: AbortSignal): Promise<EntryResult>;
  /** Copies messages to the DLQ with their reasons, then deletes them from the PIPELINE. */
  deadLetter(letters: readonly DeadLetter[], deferSeconds: (receiveCount: number) => number, signal: AbortSignal): Promise<DeadLetterResult>;
}

/**
 * The storage port: what the writers need from a database. Adapters make `writeBatch`
 * idempotent by visit_id (upsert), because SQS delivers at least once and a batch may be
 * retried after a partial failure; a visit_id written again with other content keeps the
 * last write on every backend.
 */
export interface StoragePort {
  readonly backend: string;
  /** Writes one batch of visits of one type to its table; rejects on failure, honours `signal`. */
  writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal): Promise<void>;
}
