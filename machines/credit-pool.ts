/**
 * Credit-based backpressure between pollers and writers. XState mailboxes are unbounded,
 * so the bound on messages held in memory is explicit: a poller must take credits before
 * it receives, and a writer returns them once a message is acknowledged or released.
 */
export class CreditPool {
  readonly capacity: number;
  #available: number;
  #waiters: Array<{ min: number; max: number; resolve: (granted: number) => void }> = [];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#available = capacity;
  }

  get available(): number {
    return this.#available;
  }

  get inFlight(): number {
    return this.capacity - this.#available;
  }

  /**
   * Resolves with between `min` and `max` credits once at least `min` are free (FIFO).
   * Waiting for a useful amount (a full receive) avoids many receives of one message each.
   */
  acquire(max: number, signal?: AbortSignal, min = Math.min(max, this.capacity)): Promise<number> {
    signal?.throwIfAborted();
    if (this.#waiters.length === 0 && this.#available >= min) return Promise.resolve(this.#take(max));
    return new Promise<number>((resolve, reject) => {
      const waiter = { min, max, resolve };
      this.#waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Returns credits; wakes waiters in order. */
  release(count: number): void {
    if (count <= 0) return;
    this.#available = Math.min(this.capacity, this.#available + count);
    while (this.#waiters.length > 0 && this.#available >= this.#waiters[0].min) {
      const waiter = this.#waiters.shift()!;
      waiter.resolve(this.#take(waiter.max));
    }
  }

  #take(max: number): number {
    const granted = Math.min(max, this.#available);
    this.#available -= granted;
    return granted;
  }
}
