/**
 * The log lines and totals of the reports about untrusted answers: one line per failed SQS call,
 * per answer that left entries unnamed, per possible DLQ duplicate; and the lease-lost line that
 * tells visits written but not deleted from visits never written.
 */
import test from 'ava';
import { createReporter, createStats } from '../../src/processor/runtime/report.ts';
import { capturedLogger } from '../support/captured-logger.ts';

type Line = { msg: string; count?: number; messageIds?: string[]; call?: string };

test('one line per failed call, per answer naming no entries, per possible DLQ duplicate; each counted', (t) => {
  const { lines, logger } = capturedLogger<Line>('warn');
  const stats = createStats();
  const report = createReporter(logger, stats);
  report({ kind: 'sqs-call-failed', call: 'delete', queue: 'q', entries: 10, error: new Error('DeleteMessageBatch got no answer within 2000 ms') });
  report({ kind: 'entries-unanswered', call: 'dlq-send', queue: 'dlq', messageIds: ['m-1', 'm-2'] });
  report({ kind: 'dlq-possible-duplicate', messageIds: ['m-1'], reason: 'sent again after a lost answer' });
  t.deepEqual(
    lines.map((l) => [l.msg.split(':')[0], l.call ?? l.count]),
    [
      ['SQS call failed', 'delete'],
      ['SQS answered without naming some entries as done or failed', 'dlq-send'],
      ['DLQ copy possibly sent twice (the DLQ is a standard queue', 1],
    ],
  );
  t.like(stats, { sqsCallFailures: 1, unansweredEntries: 2, dlqPossibleDuplicates: 1 });
});

test('a lost lease says "written, not deleted" for the visits that were written, "not written through it" for the rest', (t) => {
  const { lines, logger } = capturedLogger<Line>('warn');
  const report = createReporter(logger, createStats());
  report({ kind: 'lease-lost', type: 'referrer', messageIds: ['a', 'b', 'c'], written: ['b'], reason: 'lease lapsed' });
  report({ kind: 'lease-lost', type: 'referrer', messageIds: ['d'], reason: 'lease lapsed' });
  t.deepEqual(
    lines.map((l) => [l.msg, l.messageIds]),
    [
      ['lease lost: not written through it', ['a', 'c']],
      ['lease lost: written, not deleted', ['b']],
      ['lease lost: not written through it', ['d']],
    ],
  );
});
