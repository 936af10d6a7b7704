/**
 * A table's health. After `failureThreshold` failed writes in a row the circuit opens for
 * `baseOpenMs`; each failure marked `probe` opens it again for twice as long, up to
 * `maxOpenMs`; a success closes it. Once its open time is over it is half-open: still not
 * closed until a write succeeds. Pure state: the caller brings the clock.
 * The processor reads "not closed" as "this table is failing", which lengthens the deferrals
 * of that type's visits beyond its share. The breaker does not hold writes back: holding
 * batches at an open circuit kept a table that stays down from ever releasing its messages
 * to the DLQ, and a batch split into pieces multiplied the wait.
 */
export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly baseOpenMs: number;
  readonly maxOpenMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #failures = 0;
  #opens = 0;
  #openUntil = 0;

  /** `now` is the clock, injected: the processor passes Date.now, tests a simulated one. */
  constructor(options: BreakerOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  /** How much of the current open time is left (for reports). */
  get openMs(): number {
    return Math.max(0, this.#openUntil - this.#now());
  }

  get state(): BreakerState {
    if (this.#opens === 0) return 'closed';
    return this.#now() < this.#openUntil ? 'open' : 'half-open';
  }

  success(): void {
    this.#failures = 0;
    this.#opens = 0;
  }

  /**
   * Returns true when this failure opened the circuit. `probe`: the failed write was a trial of
   * a table already marked failing, so the circuit opens again, for twice as long as last time.
   * The processor passes false: its circuits open once per run of failures, for `baseOpenMs`,
   * and stay not closed until a write succeeds.
   */
  failure(probe: boolean): boolean {
    this.#failures += 1;
    const trips = probe || (this.#opens === 0 && this.#failures >= this.#options.failureThreshold);
    if (!trips) return false;
    this.#opens += 1;
    const openMs = Math.min(this.#options.maxOpenMs, this.#options.baseOpenMs * 2 ** (this.#opens - 1));
    this.#openUntil = this.#now() + openMs;
    return true;
  }
}
