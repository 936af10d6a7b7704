/**
 * A periodic one-line summary: every counter is what happened since the last line (per
 * interval); the in-flight budget is split into messages held and receive slots reserved.
 */
import type { Logger } from 'pino';
import type { CreditPool } from '../../../machines/credit-pool.ts';
import type { ProcessorStats } from './report.ts';

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The counters the line reports, as totals since start; the line shows their differences. */
export interface StatsTotals {
  readonly received: number;
  readonly written: number;
  readonly deadLettered: number;
  readonly retries: number;
  readonly released: number;
  readonly pollErrors: number;
}

export function totalsOf(stats: ProcessorStats): StatsTotals {
  const { received, retries, released, pollErrors } = stats;
  return { received, written: sum(stats.written), deadLettered: sum(stats.deadLettered), retries, released, pollErrors };
}

/** Pollers own credits as `poller-N` (supervisor.ts). */
const isPoller = (owner: string) => owner.startsWith('poller-');

/**
 * The in-flight budget by what it holds. A poller takes credits before it receives (a slot for
 * each message it may get) and hands them on with the messages at once, so a poller's credits
 * are receive slots: an idle queue reserves them without holding a message. Writers and the
 * dead-letterer hold messages.
 */
export function splitInFlight(holders: ReadonlyMap<string, number>): { messagesHeld: number; receiveSlotsReserved: number } {
  let messagesHeld = 0;
  let receiveSlotsReserved = 0;
  for (const [owner, count] of holders) {
    if (isPoller(owner)) receiveSlotsReserved += count;
    else messagesHeld += count;
  }
  return { messagesHeld, receiveSlotsReserved };
}

/** The fields of one line: counters over the interval of `seconds` between `last` and `now` totals. */
export function statsFields(last: StatsTotals, now: StatsTotals, seconds: number, holders: ReadonlyMap<string, number>) {
  const written = now.written - last.written;
  return {
    intervalSeconds: Math.round(seconds),
    received: now.received - last.received,
    written,
    writtenPerSecond: seconds > 0 ? Math.round(written / seconds) : 0,
    deadLettered: now.deadLettered - last.deadLettered,
    retries: now.retries - last.retries,
    released: now.released - last.released,
    pollErrors: now.pollErrors - last.pollErrors,
    ...splitInFlight(holders),
  };
}

export function startStatsLog(options: { logger: Logger; stats: ProcessorStats; credits: CreditPool; intervalMs: number }): () => void {
  const { logger, stats, credits, intervalMs } = options;
  let last = { totals: totalsOf(stats), at: Date.now() };
  const timer = setInterval(() => {
    const at = Date.now();
    const totals = totalsOf(stats);
    const fields = statsFields(last.totals, totals, (at - last.at) / 1000, credits.holders());
    logger.info(fields, 'stats');
    last = { totals, at };
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
