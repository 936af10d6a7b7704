/**
 * A table's health. After `failureThreshold` failed writes in a row the circuit opens for
 * `openMs`; once that is over it is half-open: still not closed until a write succeeds, and
 * further failures do not open it again. A success closes it. Pure state: the caller brings the clock.
 * The processor reads "not closed" as "this table is failing", which lengthens the deferrals
 * of that type's visits beyond its share. The breaker does not hold writes back: holding
 * batches at an open circuit kept a table that stays down from ever releasing its messages
 * to the DLQ, and a batch split into pieces multiplied the wait.
 */
export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #failures = 0;
  #opened = false;
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
    if (!this.#opened) return 'closed';
    return this.#now() < this.#openUntil ? 'open' : 'half-open';
  }

  success(): void {
    this.#failures = 0;
    this.#opened = false;
  }

  /** Returns true when this failure opened the circuit: once per run of failures. */
  failure(): boolean {
    this.#failures += 1;
    if (this.#opened || this.#failures < this.#options.failureThreshold) return false;
    this.#opened = true;
    this.#openUntil = this.#now() + this.#options.openMs;
    return true;
  }
}
