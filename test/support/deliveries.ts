/** Received visits for the batch and write-plan tests. */
import type { Delivery } from '../../machines/types.ts';

/** `n` referrer visits as received `receiveCount` times: ids v0.., m0.., r0.., each on its own site, each with the body it came in. */
export function deliveries(n: number, receiveCount = 1): Delivery[] {
  return Array.from({ length: n }, (_, i) => ({
    visit: { visitId: `v${i}`, type: 'referrer', createdAt: 1_700_000_000_000, url: `site${i}.example` },
    messageId: `m${i}`,
    receiptHandle: `r${i}`,
    receiveCount,
    body: `{"visit_id":"v${i}"}`,
  }));
}
