/**
 * The storage calls of one table that have not returned: those running within their deadline
 * and those abandoned after it (withDeadline gives up on a call, the driver may never let go of
 * it). Without a bound, a table whose every write hangs piles up abandoned calls for as long as
 * its batches retry. With one, a call starts only while the table has fewer than `cap` calls
 * out, so abandoned calls never exceed the cap; at the cap the table is paused (its writer takes
 * no work) until enough of them return for every write slot to run again.
 */

/** Calls out per write slot: the first WRITE_CONCURRENCY abandoned calls cost no throughput; beyond, fewer writes run; at twice, none. */
export const PENDING_CALLS_PER_WRITE_SLOT = 2;

export type PauseChange = { paused: true; abandoned: number; cap: number } | { paused: false; abandoned: number; cap: number };

export class StorageCalls {
  /** Most calls out (running or abandoned); also the most abandoned calls pending. */
  readonly cap: number;
  readonly #slots: number;
  readonly #onChange: (change: PauseChange) => void;
  #running = 0;
  #abandoned = 0;
  #paused = false;
  #waiters = new Set<() => void>();

  /** `slots`: WRITE_CONCURRENCY. `onChange` hears when the table pauses and when it resumes. */
  constructor(slots: number, onChange: (change: PauseChange) => void = () => {}) {
    this.#slots = slots;
    this.cap = slots * PENDING_CALLS_PER_WRITE_SLOT;
    this.#onChange = onChange;
  }

  get abandoned(): number {
    return this.#abandoned;
  }

  get running(): number {
    return this.#running;
  }

  /** Paused: abandoned calls reached the cap; it lasts until they are back to one per slot at most. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Takes room for one call, waiting for an abandoned one to return if the table is at its cap.
   * Resolves with a ticket for the call; rejects with `onTimeout()` after `ms`, or with the
   * signal's reason when it aborts.
   */
  enter(ms: number, signal: AbortSignal, onTimeout: () => Error): Promise<StorageCallTicket> {
    signal.throwIfAborted();
    if (this.#hasRoom()) return Promise.resolve(this.#start());
    return new Promise((resolve, reject) => {
      const leave = (error: unknown) => {
        this.#waiters.delete(wake);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => leave(signal.reason);
      // Room is taken in the same turn it is found, so two waiters never share it.
      const wake = () => {
        if (!this.#hasRoom()) return;
        this.#waiters.delete(wake);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(this.#start());
      };
      const timer = setTimeout(() => leave(onTimeout()), Math.max(0, ms));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(wake);
    });
  }

  #hasRoom(): boolean {
    return this.#running + this.#abandoned < this.cap;
  }

  #start(): StorageCallTicket {
    this.#running += 1;
    let state: 'running' | 'abandoned' | 'done' = 'running';
    return {
      returned: () => {
        if (state !== 'running') return;
        state = 'done';
        this.#running -= 1;
        this.#wake();
      },
      abandoned: () => {
        if (state !== 'running') return;
        state = 'abandoned';
        this.#running -= 1;
        this.#abandoned += 1;
        if (!this.#paused && this.#abandoned >= this.cap) {
          this.#paused = true;
          this.#onChange({ paused: true, abandoned: this.#abandoned, cap: this.cap });
        }
      },
      settled: () => {
        if (state !== 'abandoned') return;
        state = 'done';
        this.#abandoned -= 1;
        if (this.#paused && this.#abandoned <= this.cap - this.#slots) {
          this.#paused = false;
          this.#onChange({ paused: false, abandoned: this.#abandoned, cap: this.cap });
        }
        this.#wake();
      },
    };
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

/** One call's room: give it back when the call returns in time, or mark it abandoned and then settled. */
export interface StorageCallTicket {
  /** The call returned (or failed) within its deadline. */
  returned(): void;
  /** The call was abandoned at its deadline; it still holds room until `settled`. */
  abandoned(): void;
  /** The abandoned call finally returned. */
  settled(): void;
}
