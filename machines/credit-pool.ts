/**
 * Credit-based backpressure between pollers and writers. XState mailboxes are unbounded,
 * so the bound on messages held in memory is explicit: a poller must take credits before
 * it receives, and a writer returns them once a message is acknowledged or released.
 *
 * Credits are kept in a ledger by owner (an actor id): a poller owns what it took, the
 * writer owns what the poller handed on. When an actor crashes, the supervisor returns
 * its whole balance by id, without reading the crashed actor's context.
 */
export const UNOWNED = '(unowned)';

export class CreditPool {
  readonly capacity: number;
  #available: number;
  #waiters: Array<{ min: number; max: number; owner: string; resolve: (granted: number) => void }> = [];
  readonly #ledger = new Map<string, number>();
  /** When each owner's balance last went from nothing to something: how long it has had work. */
  readonly #heldSince = new Map<string, number>();
  /** When each owner's balance last went back to nothing. */
  readonly #emptiedAt = new Map<string, number>();
  readonly #now: () => number;

  /** `now` is the clock, injected: the processor passes Date.now, tests a simulated one. */
  constructor(capacity: number, now: () => number) {
    this.capacity = capacity;
    this.#available = capacity;
    this.#now = now;
  }

  /** Whether `owner` holds credits now or held some within the last `ms` (it has work coming). */
  activeWithin(owner: string, ms: number): boolean {
    if (this.heldBy(owner) > 0) return true;
    const emptied = this.#emptiedAt.get(owner);
    return emptied !== undefined && this.#now() - emptied < ms;
  }

  /** Since when `owner` has held credits without a break, or undefined when it holds none. */
  heldSince(owner: string): number | undefined {
    return this.#heldSince.get(owner);
  }

  get available(): number {
    return this.#available;
  }

  get inFlight(): number {
    return this.capacity - this.#available;
  }

  /** Credits an owner holds now. */
  heldBy(owner: string): number {
    return this.#ledger.get(owner) ?? 0;
  }

  /** Balances by owner (for metrics and tests). */
  holders(): ReadonlyMap<string, number> {
    return new Map(this.#ledger);
  }

  /**
   * Resolves with between `min` and `max` credits once at least `min` are free (FIFO).
   * Waiting for a useful amount (a full receive) avoids many receives of one message each.
   */
  acquire(max: number, signal?: AbortSignal, min = Math.min(max, this.capacity), owner: string = UNOWNED): Promise<number> {
    signal?.throwIfAborted();
    if (this.canTake(min)) return Promise.resolve(this.#take(max, owner));
    return new Promise<number>((resolve, reject) => {
      const waiter = { min, max, owner, resolve };
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

  /** Whether `min` credits can be taken now without overtaking a waiter. */
  canTake(min: number): boolean {
    return this.#waiters.length === 0 && this.#available >= Math.min(min, this.capacity);
  }

  /** Takes up to `max` credits now, if `min` of them are free and nobody waits; 0 otherwise. */
  tryAcquire(max: number, min: number, owner: string): number {
    return this.canTake(min) ? this.#take(max, owner) : 0;
  }

  /**
   * Returns credits; wakes waiters in order. An owner never returns more than it holds, so a
   * return repeated after its owner's balance was already returned (a crash) cannot inflate the pool.
   */
  giveBack(count: number, owner: string = UNOWNED): void {
    const returned = Math.min(count, this.heldBy(owner));
    if (returned <= 0) return;
    this.#debit(owner, returned);
    this.#available = Math.min(this.capacity, this.#available + returned);
    this.#wake();
  }

  /** Moves credits from one owner to another (a poller hands visits to a writer). */
  transfer(from: string, to: string, count: number): void {
    const moved = Math.min(count, this.heldBy(from));
    if (moved <= 0) return;
    this.#debit(from, moved);
    this.#credit(to, moved);
  }

  /** Returns everything `owner` holds (it crashed or stopped); returns how many. */
  giveBackAll(owner: string): number {
    const held = this.heldBy(owner);
    this.giveBack(held, owner);
    return held;
  }

  #credit(owner: string, count: number): void {
    if (!this.#ledger.has(owner)) this.#heldSince.set(owner, this.#now());
    this.#ledger.set(owner, this.heldBy(owner) + count);
  }

  #debit(owner: string, count: number): void {
    const left = this.heldBy(owner) - count;
    if (left > 0) this.#ledger.set(owner, left);
    else {
      this.#ledger.delete(owner);
      this.#heldSince.delete(owner);
      this.#emptiedAt.set(owner, this.#now());
    }
  }

  #wake(): void {
    while (this.#waiters.length > 0 && this.#available >= this.#waiters[0].min) {
      const waiter = this.#waiters.shift()!;
      waiter.resolve(this.#take(waiter.max, waiter.owner));
    }
  }

  #take(max: number, owner: string): number {
    const granted = Math.min(max, this.#available);
    this.#available -= granted;
    if (granted > 0) this.#credit(owner, granted);
    return granted;
  }
}
