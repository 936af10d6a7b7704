/**
 * A circuit breaker per table. After `failureThreshold` failed writes in a row the circuit
 * opens; when the open time is over one write may go through as a probe (`request`); its
 * success closes the circuit, its failure opens it again for twice as long.
 * Pure state: the caller brings the clock. The processor uses it as the table's health
 * (not closed = failing, which lengthens deferrals of that type) and does not hold writes
 * back: holding batches at an open circuit kept a table that stays down from ever
 * releasing its messages to the DLQ, and a batch split into pieces multiplied the wait.
 */
export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly baseOpenMs: number;
  readonly maxOpenMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** May a write go now: as a normal write, as the one probe, or after waiting. */
export type BreakerDecision = { readonly go: true; readonly probe: boolean } | { readonly go: false; readonly waitMs: number };

/** While a probe runs, the others look again this often. */
const PROBE_POLL_MS = 100;

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #failures = 0;
  #opens = 0;
  #openUntil = 0;
  #probing = false;

  /** `now` is the clock, injected: the processor passes Date.now, tests a simulated one. */
  constructor(options: BreakerOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  /** How long the circuit stays open this time (for reports). */
  get openMs(): number {
    return Math.max(0, this.#openUntil - this.#now());
  }

  get state(): BreakerState {
    if (this.#opens === 0) return 'closed';
    return this.#now() < this.#openUntil ? 'open' : 'half-open';
  }

  request(): BreakerDecision {
    const state = this.state;
    if (state === 'closed') return { go: true, probe: false };
    if (state === 'open') return { go: false, waitMs: this.#openUntil - this.#now() };
    if (this.#probing) return { go: false, waitMs: PROBE_POLL_MS };
    this.#probing = true;
    return { go: true, probe: true };
  }

  success(): void {
    this.#failures = 0;
    this.#opens = 0;
    this.#probing = false;
  }

  /** Returns true when this failure opened the circuit. */
  failure(probe: boolean): boolean {
    this.#failures += 1;
    if (probe) this.#probing = false;
    const trips = probe || (this.#opens === 0 && this.#failures >= this.#options.failureThreshold);
    if (!trips) return false;
    this.#opens += 1;
    const openMs = Math.min(this.#options.maxOpenMs, this.#options.baseOpenMs * 2 ** (this.#opens - 1));
    this.#openUntil = this.#now() + openMs;
    return true;
  }

  /** The probe's caller went away without an outcome (its batch stopped): let another probe. */
  cancelProbe(): void {
    this.#probing = false;
  }
}
