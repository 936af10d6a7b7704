/**
 * Turns the machines' reports into log lines and running totals. Machines never log:
 * they call their `report` action, which the processor provides with this function.
 */
import type { Logger } from 'pino';
import type { BatchCall, Report } from '../../../machines/types.ts';

/** Running totals since start; read by the stats log and the metrics endpoint. */
export interface ProcessorStats {
  received: number;
  written: Record<string, number>;
  deadLettered: Record<string, number>;
  retries: number;
  visibilityExtensions: number;
  released: number;
  pollErrors: number;
  childRestarts: number;
  acknowledgeFailures: number;
  /** Batch-call entries SQS did not carry out, per call. */
  entryFailures: Partial<Record<BatchCall, number>>;
  leasesLost: number;
  splits: number;
  /** SQS calls that failed as a whole; batch answers that left entries unnamed; DLQ copies possibly sent twice. */
  sqsCallFailures: number;
  unansweredEntries: number;
  dlqPossibleDuplicates: number;
  /** Writes abandoned at WRITE_TIMEOUT_MS, and how many of those have not returned yet. */
  abandonedWrites: number;
  abandonedPending: number;
  /** The same per visit type, and the types paused because theirs reached the cap. */
  abandonedPendingOf: Record<string, number>;
  paused: Record<string, boolean>;
  /** Visits beyond their type's share handed back to SQS with a delay. */
  deferred: Record<string, number>;
  lastReceiveAt: Record<string, number>;
  /** Last time each visit type had a batch written. */
  lastWriteAt: Record<string, number>;
}

const ENTRY_FAILURE_TEXT: Record<BatchCall, string> = {
  delete: 'some written messages could not be deleted; retried, then redelivery is idempotent',
  extend: 'some leases could not be extended; those messages leave their batch',
  release: 'some messages could not be released; they return when their lease ends',
  'dlq-send': 'the DLQ did not take some messages; they wait on the PIPELINE and are tried again',
  'dlq-delete': 'some DLQ copies could not be deleted from the PIPELINE; they are deleted when they come back, not copied again',
};

export function createStats(): ProcessorStats {
  return {
    received: 0,
    written: {},
    deadLettered: {},
    retries: 0,
    visibilityExtensions: 0,
    released: 0,
    pollErrors: 0,
    childRestarts: 0,
    acknowledgeFailures: 0,
    entryFailures: {},
    leasesLost: 0,
    splits: 0,
    sqsCallFailures: 0,
    unansweredEntries: 0,
    dlqPossibleDuplicates: 0,
    abandonedWrites: 0,
    abandonedPending: 0,
    abandonedPendingOf: {},
    paused: {},
    deferred: {},
    lastReceiveAt: {},
    lastWriteAt: {},
  };
}

export type Reporter = (report: Report) => void;

/** A reporter that logs what an operator needs and keeps `stats`; `extra` sees every report too (metrics). */
export function createReporter(logger: Logger, stats: ProcessorStats, extra?: Reporter, now: () => number = Date.now): Reporter {
  return (report) => {
    switch (report.kind) {
      case 'received':
        stats.received += report.count;
        stats.lastReceiveAt[report.poller] = now();
        break;
      case 'receive-failed':
        stats.pollErrors += 1;
        logger.warn({ poller: report.poller, attempt: report.attempt, retryInMs: report.delayMs, err: report.error }, 'receive failed, backing off');
        break;
      case 'dead-lettered':
        for (const { messageId, reason, reasonKept } of report.letters) {
          stats.deadLettered[reason.code] = (stats.deadLettered[reason.code] ?? 0) + 1;
          // The reason only: rejected bodies are untrusted and stay in the DLQ, not in logs.
          // When the body left no room for the reason in the DLQ copy, this line is where it is kept.
          logger.warn(
            { messageId, error_code: reason.code, error_message: reason.message, ...(reasonKept === 'full' ? {} : { reasonInDlq: reasonKept }) },
            reason.code === 'write_failed' ? 'row storage kept refusing sent to DLQ' : 'invalid message sent to DLQ',
          );
        }
        break;
      case 'dead-letter-failed':
        logger.error({ source: report.source, count: report.count, err: report.error }, 'could not dead-letter messages; they will be received again');
        break;
      case 'entries-failed':
        if (report.failures.length === 0) break;
        stats.entryFailures[report.call] = (stats.entryFailures[report.call] ?? 0) + report.failures.length;
        logger.warn(
          {
            call: report.call,
            source: report.source,
            failed: report.failures.map((f) => `${f.messageId}:${f.code}`).slice(0, 20),
            count: report.failures.length,
          },
          ENTRY_FAILURE_TEXT[report.call],
        );
        break;
      case 'lease-lost': {
        if (report.messageIds.length === 0) break;
        stats.leasesLost += report.messageIds.length;
        const { type, messageIds, reason } = report;
        // A visit already written whose delete did not get through is not "not written": it comes back and is upserted again.
        const written = new Set(report.written ?? []);
        const notWritten = messageIds.filter((id) => !written.has(id));
        const writtenLost = messageIds.filter((id) => written.has(id));
        if (notWritten.length > 0)
          logger.warn({ type, count: notWritten.length, messageIds: notWritten.slice(0, 20), reason }, 'lease lost: not written through it');
        if (writtenLost.length > 0)
          logger.warn({ type, count: writtenLost.length, messageIds: writtenLost.slice(0, 20), reason }, 'lease lost: written, not deleted');
        break;
      }
      case 'sqs-call-failed':
        stats.sqsCallFailures += 1;
        logger.warn({ call: report.call, queue: report.queue, entries: report.entries, err: report.error }, 'SQS call failed');
        break;
      case 'entries-unanswered':
        stats.unansweredEntries += report.messageIds.length;
        logger.warn(
          { call: report.call, queue: report.queue, count: report.messageIds.length, messageIds: report.messageIds.slice(0, 20) },
          'SQS answered without naming some entries as done or failed: counted as failed',
        );
        break;
      case 'dlq-possible-duplicate':
        stats.dlqPossibleDuplicates += report.messageIds.length;
        logger.warn(
          { count: report.messageIds.length, messageIds: report.messageIds.slice(0, 20), reason: report.reason },
          'DLQ copy possibly sent twice (the DLQ is a standard queue: no deduplication); its source_message_id attribute tells the copies apart',
        );
        break;
      case 'split':
        stats.splits += 1;
        logger.warn({ type: report.type, from: report.from, into: report.into }, 'batch kept failing: split to isolate the failing rows');
        break;
      case 'unroutable': {
        const { poller, type, count } = report;
        logger.warn({ poller, type, count }, 'no writer for visits (restarting); they return after their visibility timeout');
        break;
      }
      case 'written':
        stats.written[report.type] = (stats.written[report.type] ?? 0) + report.count;
        stats.lastWriteAt[report.type] = now();
        break;
      case 'write-failed':
        if (report.willRetry) stats.retries += 1;
        logger.warn(
          { type: report.type, count: report.count, attempt: report.attempt, retryInMs: report.willRetry ? report.delayMs : undefined, err: report.error },
          report.willRetry ? 'write failed, retrying' : 'write failed, retries exhausted',
        );
        break;
      case 'write-abandoned': {
        stats.abandonedWrites += 1;
        stats.abandonedPending += 1;
        stats.abandonedPendingOf[report.type] = (stats.abandonedPendingOf[report.type] ?? 0) + 1;
        const { type, count, timeoutMs } = report;
        logger.warn({ type, count, timeoutMs }, 'storage write did not finish in time; abandoned, the batch retries');
        break;
      }
      case 'deferred':
        stats.deferred[report.type] = (stats.deferred[report.type] ?? 0) + report.count;
        logger.debug({ type: report.type, count: report.count, holding: report.holding, degraded: report.degraded }, 'visits beyond their type share deferred');
        break;
      case 'circuit':
        if (report.state === 'open') {
          const text = `storage of ${report.type} is failing: circuit open; while another type is active, its visits beyond its share are deferred for longer`;
          logger.warn({ type: report.type, openMs: report.openMs }, text);
        } else {
          logger.info({ type: report.type }, `storage of ${report.type} answers again: circuit closed`);
        }
        break;
      case 'abandoned-write-settled':
        stats.abandonedPending -= 1;
        stats.abandonedPendingOf[report.type] = (stats.abandonedPendingOf[report.type] ?? 1) - 1;
        break;
      case 'storage-paused':
        stats.paused[report.type] = true;
        logger.warn(
          { type: report.type, abandoned: report.abandoned, cap: report.cap },
          `storage of ${report.type} paused: ${report.abandoned} abandoned writes have not returned (at most 2 x WRITE_CONCURRENCY); no write starts and its visits are deferred until they return`,
        );
        break;
      case 'storage-resumed':
        stats.paused[report.type] = false;
        logger.info({ type: report.type, abandoned: report.abandoned, cap: report.cap }, `storage of ${report.type} resumed: abandoned writes returned`);
        break;
      case 'extended':
        stats.visibilityExtensions += 1;
        logger.debug({ type: report.type, count: report.count }, 'visibility extended');
        break;
      case 'extend-failed':
        logger.warn({ type: report.type, count: report.count, err: report.error }, 'visibility extension failed');
        break;
      case 'acknowledged':
        if (report.failed > 0) {
          stats.acknowledgeFailures += report.failed;
          logger.warn({ type: report.type, failed: report.failed }, 'some written messages could not be deleted; redelivery is idempotent');
        }
        break;
      case 'acknowledge-failed':
        stats.acknowledgeFailures += report.count;
        logger.warn({ type: report.type, count: report.count, err: report.error }, 'written messages could not be deleted; redelivery is idempotent');
        break;
      case 'released':
        if (report.count === 0) break;
        stats.released += report.count;
        logger.warn({ source: report.source, count: report.count, reason: report.reason }, 'messages released back to the queue');
        break;
      case 'child-crashed':
        stats.childRestarts += 1;
        if (report.delayMs < 0) logger.error({ child: report.child, err: report.error }, 'actor crashed while draining; not restarted, its credits returned');
        else logger.error({ child: report.child, restarts: report.restarts, restartInMs: report.delayMs, err: report.error }, 'actor crashed, restarting');
        break;
      default:
        // A new Report kind fails type-checking here until it is handled above.
        report satisfies never;
    }
    extra?.(report);
  };
}
