/**
 * A deadline that holds whatever the other side does: the call is raced against a timer, not
 * only handed an abort signal, because most drivers ignore the signal. When the timer wins the
 * call is abandoned: its signal is aborted, its late result or error is dropped, and the caller
 * gets a DeadlineExceeded at once.
 */
export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}

export interface DeadlineOptions {
  readonly ms: number;
  /** The caller's signal (the actor stopping); aborting it also abandons the call. */
  readonly signal?: AbortSignal;
  /** What the call is, for the error message. */
  readonly what: string;
  /** Told when a call is abandoned, and again when an abandoned call finally settles. */
  readonly onAbandoned?: () => void;
  readonly onAbandonedSettled?: () => void;
}

export async function withDeadline<T>(call: (signal: AbortSignal) => Promise<T>, options: DeadlineOptions): Promise<T> {
  options.signal?.throwIfAborted();
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(options.signal!.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const running = call(controller.signal);
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`${options.what} did not finish within ${options.ms} ms; abandoned`)), options.ms);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    return await Promise.race([running, expired]);
  } catch (error) {
    if (!controller.signal.aborted) controller.abort(error);
    if (error instanceof DeadlineExceeded || options.signal?.aborted) {
      options.onAbandoned?.();
      // The late outcome of an abandoned call is dropped, never an unhandled rejection.
      running.then(
        () => options.onAbandonedSettled?.(),
        () => options.onAbandonedSettled?.(),
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Waits `ms`; rejects with the signal's reason as soon as `signal` aborts (at once if it already has). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
