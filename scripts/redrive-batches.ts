/**
 * Groups messages for SendMessageBatch within both of SQS's limits: at most 10 entries and at
 * most 1 MiB for the whole request. A message that fills a batch alone goes alone. Pure.
 */
export const MAX_BATCH_ENTRIES = 10;
/** SQS's limit on a batch request's total payload, and on one message. */
export const MAX_BATCH_BYTES = 1_048_576;

export interface Sized {
  readonly body: string;
}

export function batchBySize<T extends Sized>(messages: readonly T[], maxEntries = MAX_BATCH_ENTRIES, maxBytes = MAX_BATCH_BYTES): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body, 'utf8');
    if (current.length > 0 && (current.length === maxEntries || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
