/**
 * Prometheus metrics (prom-client, on a registry of our own): fed by the machines' reports,
 * plus gauges read at scrape time (in-flight credits).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CreditPool } from '../../machines/credit-pool.ts';
import type { Report } from '../../machines/types.ts';

export interface ProcessorMetrics {
  readonly registry: Registry;
  /** Feed every machine report here (ProcessorOptions.onReport). */
  observe(report: Report): void;
  /** Connect the gauges that read the running processor. */
  attach(credits: CreditPool): void;
}

export function createMetrics(now: () => number = Date.now): ProcessorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'traffic_processor_' });
  const received = new Counter({ name: 'traffic_received_total', help: 'Messages received from the PIPELINE', registers: [registry] });
  const written = new Counter({ name: 'traffic_written_total', help: 'Visits written, per visit type', labelNames: ['type'], registers: [registry] });
  const deadLettered = new Counter({
    name: 'traffic_dead_lettered_total',
    help: 'Invalid messages sent to the DLQ, per rejection code',
    labelNames: ['reason'],
    registers: [registry],
  });
  const retries = new Counter({ name: 'traffic_write_retries_total', help: 'Storage writes retried', labelNames: ['type'], registers: [registry] });
  const released = new Counter({ name: 'traffic_released_total', help: 'Messages released back to the PIPELINE (visibility 0)', registers: [registry] });
  const extensions = new Counter({ name: 'traffic_visibility_extensions_total', help: 'Lease extensions (heartbeats)', registers: [registry] });
  const pollErrors = new Counter({ name: 'traffic_poll_errors_total', help: 'Failed ReceiveMessage calls', registers: [registry] });
  const restarts = new Counter({ name: 'traffic_actor_restarts_total', help: 'Crashed actors restarted', registers: [registry] });
  const deferred = new Counter({ name: 'traffic_deferred_total', help: 'Visits beyond their type share handed back with a delay', labelNames: ['type'], registers: [registry] });
  const circuitOpen = new Gauge({ name: 'traffic_circuit_open', help: '1 while a table circuit is open (its storage failing)', labelNames: ['type'], registers: [registry] });
  const entryFailures = new Counter({
    name: 'traffic_sqs_entry_failures_total',
    help: 'Entries of SQS batch calls that failed while others succeeded, per call (delete, extend, release, dlq-send, dlq-delete)',
    labelNames: ['call'],
    registers: [registry],
  });
  const leasesLost = new Counter({
    name: 'traffic_leases_lost_total',
    help: 'Messages taken out of their batch because their lease could not be extended or lapsed (never written through it)',
    labelNames: ['type'],
    registers: [registry],
  });
  const acknowledgeFailures = new Counter({
    name: 'traffic_acknowledge_failures_total',
    help: 'Written messages that could not be deleted from the PIPELINE (redelivered, and written again idempotently)',
    labelNames: ['type'],
    registers: [registry],
  });
  const splits = new Counter({ name: 'traffic_batch_splits_total', help: 'Failing batches split to isolate the rows storage refuses', labelNames: ['type'], registers: [registry] });
  const abandoned = new Counter({
    name: 'traffic_writes_abandoned_total',
    help: 'Storage writes abandoned at WRITE_TIMEOUT_MS (the batch retries)',
    labelNames: ['type'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'traffic_write_latency_seconds',
    help: 'From created_at (stamped by the agent) to written',
    labelNames: ['type'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  let credits: CreditPool | undefined;
  new Gauge({
    name: 'traffic_in_flight',
    help: 'In-flight budget taken (MAX_IN_FLIGHT credits): messages held plus receive slots reserved by polling pollers',
    registers: [registry],
    collect() {
      this.set(credits?.inFlight ?? 0);
    },
  });

  return {
    registry,
    observe(report) {
      switch (report.kind) {
        case 'received':
          received.inc(report.count);
          break;
        case 'written': {
          written.inc({ type: report.type }, report.count);
          const at = now();
          for (const createdAt of report.createdAt) latency.observe({ type: report.type }, Math.max(0, at - createdAt) / 1000);
          break;
        }
        case 'dead-lettered':
          for (const { reason } of report.letters) deadLettered.inc({ reason: reason.code });
          break;
        case 'entries-failed':
          if (report.failures.length > 0) entryFailures.inc({ call: report.call }, report.failures.length);
          break;
        case 'lease-lost':
          if (report.messageIds.length > 0) leasesLost.inc({ type: report.type }, report.messageIds.length);
          break;
        case 'split':
          splits.inc({ type: report.type });
          break;
        case 'write-failed':
          if (report.willRetry) retries.inc({ type: report.type });
          break;
        case 'acknowledged':
          if (report.failed > 0) acknowledgeFailures.inc({ type: report.type }, report.failed);
          break;
        case 'acknowledge-failed':
          acknowledgeFailures.inc({ type: report.type }, report.count);
          break;
        case 'released':
          if (report.count > 0) released.inc(report.count);
          break;
        case 'extended':
          extensions.inc();
          break;
        case 'receive-failed':
          pollErrors.inc();
          break;
        case 'child-crashed':
          restarts.inc();
          break;
        case 'deferred':
          deferred.inc({ type: report.type }, report.count);
          break;
        case 'circuit':
          circuitOpen.set({ type: report.type }, report.state === 'open' ? 1 : 0);
          break;
        case 'write-abandoned':
          abandoned.inc({ type: report.type });
          break;
        default:
          break;
      }
    },
    attach(pool) {
      credits = pool;
    },
  };
}
