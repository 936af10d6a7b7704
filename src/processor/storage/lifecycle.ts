/**
 * The storage adapter's lifecycle around a run: wait until it is ready before anything is
 * received, close it after the last write. Both calls have a deadline, as every outside call.
 */
import type { Logger } from 'pino';
import { backoffDelay, type BackoffOptions } from '../../../machines/backoff.ts';
import { sleep, withDeadline } from '../deadline.ts';
import type { StorageAdapter } from './port.ts';

/** One readiness check may take this long (a connect and a query against a table). */
export const READY_ATTEMPT_MS = 10_000;
/** Between failed checks: a database that is starting up gets time, a long outage a check every half minute. */
export const READY_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };
/** Closing waits for in-flight queries; past this the process stops anyway. */
export const CLOSE_MS = 5_000;

export interface WaitOptions {
  readonly logger: Logger;
  /** Aborted by a shutdown while waiting: the wait rejects with its reason. */
  readonly signal: AbortSignal;
  readonly attemptMs?: number;
  readonly backoff?: BackoffOptions;
}

/**
 * Checks readiness until the adapter is ready; each failure is logged with its reason and tried
 * again after a growing delay, so a database that comes up after the processor is waited for.
 */
export async function waitUntilReady(storage: StorageAdapter, options: WaitOptions): Promise<void> {
  const { logger, signal } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      await withDeadline((attemptSignal) => storage.ready(attemptSignal), {
        ms: options.attemptMs ?? READY_ATTEMPT_MS,
        signal,
        what: `${storage.backend} readiness check`,
      });
      logger.info({ backend: storage.backend, attempts: attempt }, 'storage ready');
      return;
    } catch (error) {
      signal.throwIfAborted();
      const delayMs = backoffDelay(attempt, options.backoff ?? READY_BACKOFF);
      logger.warn({ backend: storage.backend, attempt, delayMs, err: error }, 'storage not ready: nothing is received until it is');
      await sleep(delayMs, signal);
    }
  }
}

/**
 * Starts what writes to storage (the processor) once storage is ready, so nothing is received
 * before; undefined, and nothing started, when the wait is ended by a stop.
 */
export async function startWhenReady<T>(storage: StorageAdapter, options: WaitOptions, start: () => T): Promise<T | undefined> {
  try {
    await waitUntilReady(storage, options);
  } catch (error) {
    if (options.signal.aborted) return undefined;
    throw error;
  }
  return start();
}

/** Closes the adapter; a failure or a close past its deadline is logged, never thrown (the run is over). */
export async function closeStorage(storage: StorageAdapter, logger: Logger, ms = CLOSE_MS): Promise<void> {
  try {
    await withDeadline(() => storage.close(), { ms, what: `closing ${storage.backend} storage` });
  } catch (error) {
    logger.warn({ backend: storage.backend, err: error }, 'storage did not close cleanly');
  }
}
