/**
 * Stalls in the open: while the processor runs, one warning per interval names what is stuck
 * (a poller that completes no receive, a writer that holds visits and writes none), for as
 * long as it stays stuck. /healthz reads the same assessment.
 */
import type { Logger } from 'pino';
import type { Health } from './health.ts';

export function startStallMonitor(options: { health: () => Health; logger: Logger; intervalMs: number }): () => void {
  const timer = setInterval(() => {
    const health = options.health();
    if (health.ok || health.state !== 'running') return;
    options.logger.warn({ problems: health.problems }, `processor stalled: ${health.problems.join('; ')}`);
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
