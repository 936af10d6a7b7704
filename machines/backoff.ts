/** Backoff strategies as pure functions: the random source is injected so tests can pin it. */

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random.
 * The fixed half keeps delays growing attempt after attempt; the random half keeps
 * many workers that failed together from retrying in lockstep.
 * `attempt` starts at 1 for the first retry.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * How long a message the DLQ could not take stays hidden on the PIPELINE before it is tried
 * again: doubling with each receive, so a DLQ outage does not use up the redrive policy's
 * receives (which would move the message without its reason). Capped at 15 minutes.
 */
export function deadLetterRetrySeconds(receiveCount: number, baseSeconds: number): number {
  return Math.min(900, baseSeconds * 2 ** Math.min(Math.max(receiveCount - 1, 0), 20));
}
