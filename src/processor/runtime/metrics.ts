/**
 * Prometheus metrics (prom-client, on a registry of our own): fed by the machines' reports,
 * plus gauges read at scrape time (in-flight credits).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CreditPool } from '../../../machines/credit-pool.ts';
import type { Report } from '../../../machines/types.ts';

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
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] });
  const received = counter('traffic_received_total', 'Messages received from the PIPELINE');
  const written = counter('traffic_written_total', 'Visits written, per visit type', ['type']);
  const deadLettered = counter('traffic_dead_lettered_total', 'Invalid messages sent to the DLQ, per rejection code', ['reason']);
  const retries = counter('traffic_write_retries_total', 'Storage writes retried', ['type']);
  const released = counter('traffic_released_total', 'Messages released back to the PIPELINE (visibility 0)');
  const extensions = counter('traffic_visibility_extensions_total', 'Lease extensions (heartbeats)');
  const pollErrors = counter('traffic_poll_errors_total', 'Failed ReceiveMessage calls');
  const restarts = counter('traffic_actor_restarts_total', 'Crashed actors restarted');
  const sqsCallFailures = counter('traffic_sqs_call_failures_total', 'SQS calls that failed as a whole, per call', ['call']);
  const unanswered = counter('traffic_sqs_unanswered_entries_total', 'Batch entries an SQS answer named neither done nor failed, per call', ['call']);
  const possibleDuplicates = counter('traffic_dlq_possible_duplicates_total', 'DLQ copies sent again after an answer that may have been lost');
  const deferred = counter('traffic_deferred_total', 'Visits beyond their type share handed back with a delay', ['type']);
  const circuitOpen = new Gauge({
    name: 'traffic_circuit_open',
    help: '1 while a table circuit is open (its storage failing)',
    labelNames: ['type'],
    registers: [registry],
  });
  const entryFailures = counter(
    'traffic_sqs_entry_failures_total',
    'Entries of SQS batch calls that failed while others succeeded, per call (delete, extend, release, dlq-send, dlq-delete)',
    ['call'],
  );
  const leasesLost = counter(
    'traffic_leases_lost_total',
    'Messages taken out of their batch because their lease could not be extended or lapsed (never written through it)',
    ['type'],
  );
  const acknowledgeFailures = counter(
    'traffic_acknowledge_failures_total',
    'Written messages that could not be deleted from the PIPELINE (redelivered, and written again idempotently)',
    ['type'],
  );
  const splits = counter('traffic_batch_splits_total', 'Failing batches split to isolate the rows storage refuses', ['type']);
  const abandoned = counter('traffic_writes_abandoned_total', 'Storage writes abandoned at WRITE_TIMEOUT_MS (the batch retries)', ['type']);
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['type'], registers: [registry] });
  const abandonedPending = gauge(
    'traffic_writes_abandoned_pending',
    'Abandoned storage writes that have not returned yet (at most 2 x WRITE_CONCURRENCY per type)',
  );
  const paused = gauge('traffic_storage_paused', '1 while a table takes no work: its abandoned writes pending reached their cap');
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
        case 'sqs-call-failed':
          sqsCallFailures.inc({ call: report.call });
          break;
        case 'entries-unanswered':
          if (report.messageIds.length > 0) unanswered.inc({ call: report.call }, report.messageIds.length);
          break;
        case 'dlq-possible-duplicate':
          if (report.messageIds.length > 0) possibleDuplicates.inc(report.messageIds.length);
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
          abandonedPending.inc({ type: report.type });
          break;
        case 'abandoned-write-settled':
          abandonedPending.dec({ type: report.type });
          break;
        case 'storage-paused':
        case 'storage-resumed':
          paused.set({ type: report.type }, report.kind === 'storage-paused' ? 1 : 0);
          break;
        // Logged, not counted.
        case 'dead-letter-failed':
        case 'unroutable':
        case 'extend-failed':
          break;
        default:
          // A new Report kind fails type-checking here until it is handled above.
          report satisfies never;
      }
    },
    attach(pool) {
      credits = pool;
    },
  };
}
