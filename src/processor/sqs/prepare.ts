/**
 * Start-up: check the PIPELINE and find its DLQ, retrying with backoff while the endpoint
 * does not answer (each try has the SQS call deadline), so a silent endpoint gives one log
 * line per try naming it instead of silence. A definite answer that will not change on retry
 * (no such queue, no redrive policy, access denied) fails at once.
 */
import { backoffDelay, type BackoffOptions } from '../../../machines/backoff.ts';
import type { QueueFacts, QueuePort } from '../../../machines/ports.ts';
import { sleep } from '../deadline.ts';
import { SqsQueueError } from './queue.ts';
import { LOCAL_CREDENTIALS_VARIABLE } from '../../platform/config.ts';

/**
 * The SDK's default chain found no credentials at all (no environment variables, profile,
 * container or instance role): nothing a retry changes. A provider that was found but failed
 * (a container endpoint not ready yet) throws its own error, and is retried.
 */
export function noCredentials(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'CredentialsProviderError' && /from any providers/.test(e.message ?? '');
}

/** Whether a start-up error is the endpoint's final answer rather than a failure to answer. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof SqsQueueError || noCredentials(error)) return true;
  const e = error as { $fault?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return e?.$fault === 'client' && status !== undefined && status < 500 && status !== 429 && !/Throttl/i.test(e.name ?? '');
}

export async function prepareWithRetries(
  queue: Pick<QueuePort, 'prepare'>,
  options: {
    signal: AbortSignal;
    /** 0: keep trying until stopped. */
    maxAttempts: number;
    onRetry: (attempt: number, delayMs: number, error: unknown) => void;
    /** tuning.startupBackoffBaseMs and tuning.startupBackoffMaxMs. */
    backoff: BackoffOptions;
  },
): Promise<QueueFacts> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await queue.prepare(options.signal);
    } catch (error) {
      if (noCredentials(error)) {
        throw new SqsQueueError(
          `no AWS credentials to sign SQS calls with: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a role; for a LocalStack or fauxqs that is not on this machine, set ${LOCAL_CREDENTIALS_VARIABLE}=1`,
        );
      }
      if (options.signal.aborted || isPermanent(error)) throw error;
      if (options.maxAttempts > 0 && attempt >= options.maxAttempts) {
        throw new Error(`the SQS endpoint did not answer in ${attempt} attempt(s) (tuning.startupMaxAttempts=${options.maxAttempts}): ${String(error)}`, {
          cause: error,
        });
      }
      const delayMs = backoffDelay(attempt, options.backoff);
      options.onRetry(attempt, delayMs, error);
      await sleep(delayMs, options.signal);
    }
  }
}
