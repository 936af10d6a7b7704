/**
 * The reports of one DLQ call, the same from every caller (poller, dead-letterer, batch):
 * what reached the DLQ with its reason, what the DLQ refused, what stayed on the PIPELINE.
 */
import type { DeadLetterReason, DeadLetterResult, Report } from './types.ts';

export function deadLetterReports(source: string, output: DeadLetterResult, reasonOf: (messageId: string) => DeadLetterReason): Report[] {
  return [
    {
      kind: 'dead-lettered',
      source,
      letters: output.sent.map(({ messageId, reasonKept }) => ({ messageId, reasonKept, reason: reasonOf(messageId) })),
    },
    { kind: 'entries-failed', call: 'dlq-send', source, failures: output.notSent },
    { kind: 'entries-failed', call: 'dlq-delete', source, failures: output.notDeleted },
  ];
}
