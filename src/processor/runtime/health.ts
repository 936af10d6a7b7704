/**
 * Whether the processor is healthy: the supervisor is running, every poller has completed
 * a receive recently (a long poll returns at least every RECEIVE_WAIT_SECONDS, even empty),
 * and every writer that holds visits has written some recently.
 * Pure: the HTTP server and the stall monitor call it with what they read.
 */
import type { StorageStatus } from '../storage/port.ts';

export interface HealthInput {
  readonly supervisorState: string;
  readonly pollers: readonly string[];
  readonly lastReceiveAt: Readonly<Record<string, number>>;
  readonly startedAt: number;
  readonly now: number;
  /** A poller silent, or a writer with work and no write, for longer than this is stuck. */
  readonly maxSilenceMs: number;
  /** Writers with work: how many visits each holds, since when, and when it last wrote. */
  readonly writers?: ReadonlyArray<{ readonly name: string; readonly holding: number; readonly holdingSince?: number; readonly lastWriteAt?: number }>;
}

export interface Health {
  readonly ok: boolean;
  readonly state: string;
  readonly problems: string[];
}

export function assessHealth(input: HealthInput): Health {
  const problems: string[] = [];
  if (input.supervisorState !== 'running') problems.push(`supervisor is ${input.supervisorState}, not running`);
  for (const poller of input.pollers) {
    const last = input.lastReceiveAt[poller] ?? input.startedAt;
    const silentMs = input.now - last;
    if (silentMs > input.maxSilenceMs) problems.push(`${poller} has not completed a receive for ${Math.round(silentMs / 1000)} s`);
  }
  for (const writer of input.writers ?? []) {
    if (writer.holding === 0) continue;
    // Progress is a write since the writer last had nothing to do.
    const since = Math.max(writer.lastWriteAt ?? input.startedAt, writer.holdingSince ?? input.startedAt);
    const stuckMs = input.now - since;
    if (stuckMs > input.maxSilenceMs) problems.push(`${writer.name} holds ${writer.holding} visit(s) and has written none for ${Math.round(stuckMs / 1000)} s`);
  }
  return { ok: problems.length === 0, state: input.supervisorState, problems };
}

/** The processor's health with its storage's: storage that cannot take writes fails /healthz, with the reason. */
export function withStorage(health: Health, backend: string, status: StorageStatus): Health {
  if (status.ready) return health;
  return { ok: false, state: health.state, problems: [...health.problems, `storage (${backend}) is not ready: ${status.reason}`] };
}
