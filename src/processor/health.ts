/**
 * Whether the processor is healthy: the supervisor is running and every poller has completed
 * a receive recently (a long poll returns at least every RECEIVE_WAIT_SECONDS, even empty).
 * Pure: the HTTP server and the stats log call it with what they read.
 */
export interface HealthInput {
  readonly supervisorState: string;
  readonly pollers: readonly string[];
  readonly lastReceiveAt: Readonly<Record<string, number>>;
  readonly startedAt: number;
  readonly now: number;
  /** A poller silent for longer than this is stuck. */
  readonly maxSilenceMs: number;
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
  return { ok: problems.length === 0, state: input.supervisorState, problems };
}
