/**
 * A batch's write plan, as pure functions: which rows are written next, and what becomes of
 * rows storage refuses. A group is tried with the whole retry budget; once that is spent it is
 * split in halves, each tried once, down to single rows, so the valid neighbours of a poison row
 * are written. If both halves of the first split fail, storage refuses them all rather than one
 * row: splitting further would only hammer it, so the batch is released whole for a later
 * receive (unless a row is at its last receive). A row that fails alone is set aside: released,
 * or dead-lettered from its deadLetterAfterReceives-th receive on (at that receive it first gets
 * the whole retry budget). The batch machine (./batch.ts) runs the plan; it does no I/O itself.
 */
import type { BatchSettings, DeadLetterReason, Delivery } from './types.ts';

/** The first split's two halves: pending (the first is being tried), failed (the first failed), settled (either was written, or a later split). */
export type Halves = 'none' | 'first-pending' | 'first-failed' | 'settled';

export interface SetAside {
  readonly delivery: Delivery;
  readonly reason: DeadLetterReason;
}

export interface WritePlan {
  /** Rows still to write; the first group is the one being written or acknowledged. */
  readonly groups: ReadonlyArray<readonly Delivery[]>;
  /** The attempt of the current group, from 1. */
  readonly attempt: number;
  /** Attempts the current group gets: the whole budget first, one per split piece. */
  readonly attemptsAllowed: number;
  /** The batch has been split: every group left is a piece, tried once. */
  readonly split: boolean;
  readonly halves: Halves;
  /** Rows set aside to be released (visibility 0) for a later receive. */
  readonly toRelease: readonly Delivery[];
  /** Rows set aside for the DLQ, with the storage error as their reason. */
  readonly toDeadLetter: readonly SetAside[];
  /** Why the rows set aside are released (logged). */
  readonly restReason: string;
}

export type PlanSettings = Pick<BatchSettings, 'writeMaxAttempts' | 'deadLetterAfterReceives'>;

/** What the plan decided when a group's retries were spent. */
export type Exhausted =
  /** The first half failed: the second is tried before splitting, to tell one bad row from a storage refusing all. */
  | { readonly kind: 'second-half' }
  /** Both halves failed and no row is at its last receive: everything is released. */
  | { readonly kind: 'refused-all' }
  | { readonly kind: 'split'; readonly from: number; readonly into: readonly [number, number] }
  /** A lone row at its last receive gets the whole retry budget before it is set aside. */
  | { readonly kind: 'last-receive' }
  | { readonly kind: 'set-aside'; readonly deadLetter: boolean };

export function initialPlan(deliveries: readonly Delivery[], settings: PlanSettings): WritePlan {
  return {
    groups: deliveries.length > 0 ? [[...deliveries]] : [],
    attempt: 1,
    attemptsAllowed: settings.writeMaxAttempts,
    split: false,
    halves: 'none',
    toRelease: [],
    toDeadLetter: [],
    restReason: 'rows kept failing alone',
  };
}

/** The group being written or acknowledged (empty when the plan has none left). */
export function current(plan: WritePlan): readonly Delivery[] {
  return plan.groups[0] ?? [];
}

/** Every delivery the plan still holds a lease for: to write, to release or to dead-letter. */
export function held(plan: WritePlan): Delivery[] {
  return [...plan.groups.flat(), ...plan.toRelease, ...plan.toDeadLetter.map((d) => d.delivery)];
}

export function canRetry(plan: WritePlan): boolean {
  return plan.attempt < plan.attemptsAllowed;
}

/** The next attempt of the same group. */
export function retried(plan: WritePlan): WritePlan {
  return { ...plan, attempt: plan.attempt + 1 };
}

/** The current group was written: a half that succeeded settles the first split. */
export function written(plan: WritePlan): WritePlan {
  return { ...plan, halves: plan.halves === 'none' ? 'none' : 'settled' };
}

/** On to the next group (after the current one was acknowledged, or emptied by lost leases). */
export function nextGroup(plan: WritePlan, settings: PlanSettings): WritePlan {
  return { ...plan, groups: plan.groups.slice(1), attempt: 1, attemptsAllowed: plan.split ? 1 : settings.writeMaxAttempts };
}

/** Skips a current group emptied by lost leases, keeping the attempt count of the group after it. */
export function skipEmpty(plan: WritePlan): WritePlan {
  return { ...plan, groups: plan.groups.slice(1) };
}

/** The plan after a write of the current group failed and `canRetry` is false. */
export function afterExhausted(plan: WritePlan, error: unknown, settings: PlanSettings): { plan: WritePlan; step: Exhausted } {
  const [group, ...rest] = plan.groups;
  const atLastReceive = (d: Delivery) => d.receiveCount >= settings.deadLetterAfterReceives;
  if (plan.halves === 'first-pending') {
    // The second half goes first; it may be gone if every one of its leases was lost.
    const [second, ...others] = rest;
    const groups = second ? [second, group, ...others] : [group];
    return { plan: { ...plan, groups, halves: 'first-failed', attempt: 1 }, step: { kind: 'second-half' } };
  }
  if (plan.halves === 'first-failed' && !held(plan).some(atLastReceive)) {
    return {
      plan: {
        ...plan,
        toRelease: [...plan.toRelease, ...plan.groups.flat()],
        groups: [],
        halves: 'settled',
        restReason: 'both halves of the batch failed: storage refuses them all, not one row',
      },
      step: { kind: 'refused-all' },
    };
  }
  if (group.length > 1) {
    const half = Math.ceil(group.length / 2);
    return {
      plan: {
        ...plan,
        groups: [group.slice(0, half), group.slice(half), ...rest],
        attempt: 1,
        attemptsAllowed: 1,
        split: true,
        halves: plan.halves === 'none' ? 'first-pending' : 'settled',
      },
      step: { kind: 'split', from: group.length, into: [half, group.length - half] },
    };
  }
  const [row] = group;
  if (plan.attemptsAllowed < settings.writeMaxAttempts && atLastReceive(row)) {
    return { plan: { ...plan, attemptsAllowed: settings.writeMaxAttempts }, step: { kind: 'last-receive' } };
  }
  const deadLetter = atLastReceive(row);
  return {
    plan: {
      ...nextGroup(plan, settings),
      toDeadLetter: deadLetter
        ? [...plan.toDeadLetter, { delivery: row, reason: { code: 'write_failed', message: writeFailedReason(error, row) } }]
        : plan.toDeadLetter,
      toRelease: deadLetter ? plan.toRelease : [...plan.toRelease, row],
    },
    step: { kind: 'set-aside', deadLetter },
  };
}

/** The plan without the deliveries whose lease was lost (the current group stays, maybe empty). */
export function withoutLost(plan: WritePlan, lost: ReadonlySet<string>): WritePlan {
  const keep = (d: Delivery) => !lost.has(d.messageId);
  return {
    ...plan,
    groups: plan.groups.map((g) => g.filter(keep)).filter((g, i) => i === 0 || g.length > 0),
    toRelease: plan.toRelease.filter(keep),
    toDeadLetter: plan.toDeadLetter.filter((d) => keep(d.delivery)),
  };
}

/** The plan once the whole lease lapsed: nothing more is written, released or dead-lettered through it. */
export function abandoned(plan: WritePlan): WritePlan {
  return { ...plan, groups: [], toRelease: [], toDeadLetter: [] };
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
