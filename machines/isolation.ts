/**
 * Isolation between visit types, as pure functions: a writer holds at most its share of the
 * in-flight budget, so one type whose storage fails or hangs can never take the credits the
 * other types need. Visits beyond the share are deferred: handed back to SQS with a visibility
 * delay, so they return later instead of waiting in memory.
 *
 * Every receive counts towards the redrive policy's maxReceiveCount, so deferring is bounded:
 * a message already received more than `deferUpToReceive` times is always kept, and a valid
 * visit is never pushed towards the DLQ by deferrals alone.
 */
import type { Delivery } from './types.ts';

export interface ShareSettings {
  /** Most visits a writer holds before it defers the ones beyond. */
  readonly maxHolding: number;
  /** Messages at or below this receive count may be deferred; later receives are always kept. */
  readonly deferUpToReceive: number;
  /** First deferral while the type's storage is failing (circuit open); doubles per receive. */
  readonly deferSeconds: number;
  /** First deferral while it is healthy but full (slow storage); doubles per receive. */
  readonly deferBusySeconds: number;
  readonly deferMaxSeconds: number;
}

export interface Admission {
  readonly keep: readonly Delivery[];
  /** Deferred visits grouped by the visibility delay they get. */
  readonly defer: ReadonlyArray<{ readonly seconds: number; readonly deliveries: readonly Delivery[] }>;
}

/** How long a deferred message stays invisible: grows with its receive count, so an outage costs few receives. */
export function deferDelaySeconds(receiveCount: number, degraded: boolean, settings: ShareSettings): number {
  const base = degraded ? settings.deferSeconds : settings.deferBusySeconds;
  return Math.min(settings.deferMaxSeconds, base * 2 ** Math.max(0, receiveCount - 1));
}

/** Splits visits arriving at a writer that holds `holding` into those it keeps and those it defers. */
export function admit(deliveries: readonly Delivery[], holding: number, degraded: boolean, settings: ShareSettings): Admission {
  let room = Math.max(0, settings.maxHolding - holding);
  const keep: Delivery[] = [];
  const bySeconds = new Map<number, Delivery[]>();
  for (const delivery of deliveries) {
    if (room > 0 || delivery.receiveCount > settings.deferUpToReceive) {
      keep.push(delivery);
      room -= 1;
      continue;
    }
    const seconds = deferDelaySeconds(delivery.receiveCount, degraded, settings);
    const group = bySeconds.get(seconds);
    if (group) group.push(delivery);
    else bySeconds.set(seconds, [delivery]);
  }
  return { keep, defer: [...bySeconds].map(([seconds, list]) => ({ seconds, deliveries: list })) };
}
