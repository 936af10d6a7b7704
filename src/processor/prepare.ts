/**
 * Start-up: check the PIPELINE and find its DLQ, retrying with backoff while the endpoint
 * does not answer (each try has the SQS call deadline), so a silent endpoint gives one log
 * line per try naming it instead of silence. A definite answer that will not change on retry
 * (no such queue, no redrive policy, access denied) fails at once.
 */
import { backoffDelay, type BackoffOptions } from '../../machines/backoff.ts';
import { SqsQueueError, type SqsQueue } from './sqs-queue.ts';

export const STARTUP_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 30_000 };

/** Whether a start-up error is the endpoint's final answer rather than a failure to answer. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof SqsQueueError) return true;
  const e = error as { $fault?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return e?.$fault === 'client' && status !== undefined && status < 500 && status !== 429 && !/Throttl/i.test(e.name ?? '');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

export async function prepareWithRetries(
  queue: Pick<SqsQueue, 'prepare'>,
  options: {
    signal: AbortSignal;
    /** 0: keep trying until stopped. */
    maxAttempts: number;
    onRetry: (attempt: number, delayMs: number, error: unknown) => void;
    backoff?: BackoffOptions;
  },
): ReturnType<SqsQueue['prepare']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await queue.prepare(options.signal);
    } catch (error) {
      if (options.signal.aborted || isPermanent(error)) throw error;
      if (options.maxAttempts > 0 && attempt >= options.maxAttempts) {
        throw new Error(`the SQS endpoint did not answer in ${attempt} attempt(s) (STARTUP_MAX_ATTEMPTS=${options.maxAttempts}): ${String(error)}`, { cause: error });
      }
      const delayMs = backoffDelay(attempt, options.backoff ?? STARTUP_BACKOFF);
      options.onRetry(attempt, delayMs, error);
      await sleep(delayMs, options.signal);
    }
  }
}
