/** A periodic one-line summary of what the processor did since the last line. */
import type { Logger } from 'pino';
import type { CreditPool } from '../../machines/credit-pool.ts';
import type { ProcessorStats } from './report.ts';

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export function startStatsLog(options: { logger: Logger; stats: ProcessorStats; credits: CreditPool; intervalMs: number }): () => void {
  const { logger, stats, credits, intervalMs } = options;
  let last = { received: 0, written: 0, at: Date.now() };
  const timer = setInterval(() => {
    const now = Date.now();
    const written = sum(stats.written);
    const seconds = (now - last.at) / 1000;
    logger.info(
      {
        received: stats.received - last.received,
        written: written - last.written,
        writtenPerSecond: Math.round((written - last.written) / seconds),
        deadLettered: sum(stats.deadLettered),
        inFlight: credits.inFlight,
        retries: stats.retries,
        released: stats.released,
        pollErrors: stats.pollErrors,
      },
      'stats',
    );
    last = { received: stats.received, written, at: now };
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
