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
