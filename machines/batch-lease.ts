/**
 * A batch's lease, reckoned in one place: when to extend it, how long it is fresh enough to
 * start a write, when it lapses, and which deliveries leave the batch when their extension
 * fails. Pure functions; the batch machine (./batch.ts) turns them into delays and guards, and
 * the processor's configuration checks its knobs against the same arithmetic.
 */
import type { BatchSettings, Delivery } from './types.ts';

/** Allowance for SQS round trips when the processor reckons how long a lease has left. */
export const LEASE_MARGIN_MS = 1_000;
/** Extensions per visibility timeout: a lease is extended every third of it. */
export const HEARTBEATS_PER_LEASE = 3;
/** Shortest pause before an extension that failed is tried again. */
export const EXTEND_RETRY_MAX_MS = 1_000;

/** The heartbeat for a visibility timeout: a third of it, at least a second. */
export function heartbeatSecondsFor(visibilityTimeoutSeconds: number): number {
  return Math.max(1, Math.floor(visibilityTimeoutSeconds / HEARTBEATS_PER_LEASE));
}

/** What a lease leaves for a write or a wait once a heartbeat and the margin are taken off. */
export function leaseRoomMs(visibilityTimeoutSeconds: number, heartbeatSeconds: number, marginMs = LEASE_MARGIN_MS): number {
  return (visibilityTimeoutSeconds - heartbeatSeconds) * 1000 - marginMs;
}

/** When the batch last had its lease set: at receipt (aged by the writer's linger), or by an extension that took `lagMs`. */
export interface LeaseClock {
  readonly renewed: boolean;
  /** How long the last successful extension call took: SQS may have applied it at its start. */
  readonly lagMs: number;
}

export const LEASE_AT_RECEIPT: LeaseClock = { renewed: false, lagMs: 0 };

/** Milliseconds of lease left at the start of a lease period: from receipt, or from the last extension. */
export function leaseLeftMs(lease: LeaseClock, settings: BatchSettings): number {
  const full = settings.visibilityTimeoutSeconds * 1000;
  return lease.renewed ? full - lease.lagMs : full - settings.lingerMs;
}

/** Until the next extension: a heartbeat, less the linger the first time (leases count from receipt). */
export function heartbeatDelayMs(lease: LeaseClock, settings: BatchSettings): number {
  return lease.renewed ? settings.heartbeatMs : Math.max(0, settings.heartbeatMs - settings.lingerMs);
}

export function extendRetryDelayMs(settings: BatchSettings): number {
  return Math.min(settings.heartbeatMs, EXTEND_RETRY_MAX_MS);
}

/** How long a write may still start: the lease must outlast a whole write deadline and the margin. */
export function freshForMs(lease: LeaseClock, settings: BatchSettings): number {
  return leaseLeftMs(lease, settings) - settings.writeTimeoutMs - settings.leaseMarginMs;
}

/** Once stale, how long until the lease lapses (a write started while fresh has ended by then). */
export function staleForMs(lease: LeaseClock, settings: BatchSettings): number {
  return Math.max(0, Math.min(settings.writeTimeoutMs, leaseLeftMs(lease, settings) - settings.leaseMarginMs));
}

/** The lease clock after an extension call that took `elapsedMs`. */
export function renewed(elapsedMs: number | undefined): LeaseClock {
  return { renewed: true, lagMs: elapsedMs ?? 0 };
}

/** The list without the deliveries whose lease was lost. */
export function withoutLost<T extends Delivery | { delivery: Delivery }>(list: readonly T[], lost: ReadonlySet<string>): T[] {
  return list.filter((item) => !lost.has('delivery' in item ? item.delivery.messageId : item.messageId));
}
