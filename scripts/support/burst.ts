/** Simulated bursts: mixed visit bodies (valid of both types, `direct` aliases, invalid of several kinds). */
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RejectionCode } from '../../src/contract/visit.ts';
import { chunkByBytes } from '../../src/processor/sqs/queue.ts';

export interface BurstMessage {
  readonly body: string;
  /** The visit_id for valid bodies; undefined for invalid ones. */
  readonly visitId?: string;
  readonly table?: string;
  /** The rejection code expected for invalid bodies. */
  readonly expectedCode?: RejectionCode;
}

const INVALID: ReadonlyArray<() => { body: string; code: RejectionCode }> = [
  () => ({ body: JSON.stringify({ type: 'organic', created_at: Date.now() }), code: 'invalid_type' }),
  () => ({ body: '{"type":"referrer",', code: 'malformed_json' }),
  () => ({ body: JSON.stringify({ type: 'referrer', created_at: 'yesterday' }), code: 'schema_violation' }),
  () => ({ body: JSON.stringify({ type: 'type-in', created_at: Date.now(), ip: '999.1.1.1' }), code: 'invalid_ip' }),
  () => ({ body: JSON.stringify({ type: 'referrer', created_at: Date.now(), url: 'javascript:alert(1)' }), code: 'invalid_url' }),
  () => ({ body: JSON.stringify({ type: 'referrer', created_at: Date.now(), junk: true }), code: 'unexpected_field' }),
];

/** `count` bodies; about `invalidShare` of them invalid, the rest split between types. */
export function makeBurst(count: number, invalidShare: number, random: () => number): BurstMessage[] {
  const out: BurstMessage[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < invalidShare) {
      const { body, code } = INVALID[i % INVALID.length]();
      out.push({ body, expectedCode: code });
      continue;
    }
    const visitId = randomUUID();
    const createdAt = Date.now();
    if (roll < invalidShare + (1 - invalidShare) / 2) {
      const type = i % 3 === 0 ? 'direct' : 'type-in';
      out.push({
        body: JSON.stringify({ type, created_at: createdAt, visit_id: visitId, ip: `10.0.${i % 256}.${(i >> 8) % 256}` }),
        visitId,
        table: 'traffic_type_in',
      });
    } else {
      out.push({
        body: JSON.stringify({ type: 'referrer', created_at: createdAt, visit_id: visitId, url: `https://site${i % 97}.example/page/${i}` }),
        visitId,
        table: 'traffic_referrer',
      });
    }
  }
  return out;
}

/** Sends bodies with SendMessageBatch (10 entries and SQS's size limit per call), `parallel` calls at a time. */
export async function sendBurst(client: SQSClient, queueUrl: string, messages: readonly BurstMessage[], parallel = 16): Promise<void> {
  const batches = chunkByBytes(messages.map((m, i) => ({ Id: String(i), MessageBody: m.body })));
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const result = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
      if (result.Failed?.length) throw new Error(`send failed: ${JSON.stringify(result.Failed[0])}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}
