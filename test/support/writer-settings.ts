/** Writer settings for machine tests on a simulated clock: the timings they share, with what a test varies. */
import type { WriterSettings } from '../../machines/types.ts';

/** Timings far from what the writer tests step through, so only batch size, linger and share decide. */
const TIMINGS = {
  heartbeatMs: 10_000,
  visibilityTimeoutSeconds: 30,
  writeMaxAttempts: 3,
  retryBaseMs: 100,
  retryMaxMs: 1_000,
  writeTimeoutMs: 10_000,
  leaseMarginMs: 1_000,
  deadLetterAfterReceives: 5,
  ackRetries: 3,
  ackRetryBaseMs: 200,
} as const;

export function writerSettings(fields: Pick<WriterSettings, 'batchSize' | 'lingerMs'> & Partial<WriterSettings>): WriterSettings {
  return { ...TIMINGS, ...fields };
}
