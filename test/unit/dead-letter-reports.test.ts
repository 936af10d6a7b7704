/**
 * The reports of one DLQ call, shared by the poller, the dead-letterer and the batch: each copy
 * that reached the DLQ with its reason, and the entries the DLQ refused or the PIPELINE kept.
 */
import test from 'ava';
import { deadLetterReports } from '../../machines/dead-letter-reports.ts';
import type { DeadLetterReason } from '../../machines/types.ts';

test('a DLQ call with copies sent, one refused and one not deleted from the PIPELINE: three reports', (t) => {
  const reasons: Record<string, DeadLetterReason> = {
    m1: { code: 'invalid_type', message: 'type "organic" is not a visit type' },
    m2: { code: 'malformed_json', message: 'body is not valid JSON' },
  };
  const reports = deadLetterReports(
    'poller-1',
    {
      sent: [
        { messageId: 'm1', reasonKept: 'full' },
        { messageId: 'm2', reasonKept: 'trimmed' },
      ],
      notSent: [{ messageId: 'm3', code: 'AWS.SimpleQueueService.NonExistentQueue' }],
      notDeleted: [{ messageId: 'm2', code: 'ReceiptHandleIsInvalid' }],
    },
    (messageId) => reasons[messageId],
  );
  t.deepEqual(reports, [
    {
      kind: 'dead-lettered',
      source: 'poller-1',
      letters: [
        { messageId: 'm1', reasonKept: 'full', reason: reasons.m1 },
        { messageId: 'm2', reasonKept: 'trimmed', reason: reasons.m2 },
      ],
    },
    { kind: 'entries-failed', call: 'dlq-send', source: 'poller-1', failures: [{ messageId: 'm3', code: 'AWS.SimpleQueueService.NonExistentQueue' }] },
    { kind: 'entries-failed', call: 'dlq-delete', source: 'poller-1', failures: [{ messageId: 'm2', code: 'ReceiptHandleIsInvalid' }] },
  ]);
});
