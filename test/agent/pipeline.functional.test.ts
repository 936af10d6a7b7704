/**
 * Agent to table, on a real SQS endpoint: realistic traffic through the agent's handler, drained
 * by the processor into a recording storage port. Exactly one row per accepted visit, in its
 * type's table, with the ip or url the agent chose; rejected visits never reach the queue.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import test from 'ava';
import pino from 'pino';
import { createAgent } from '../../src/agent/agent.ts';
import { createSqsSender } from '../../src/agent/sqs-sender.ts';
import { generateEvents, runTraffic, type TrafficResult } from '../../scripts/traffic/index.ts';
import { resolveVisitType, type VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import type { Visit } from '../../src/contract/visit.ts';
import type { StoragePort } from '../../machines/ports.ts';
import { startTestProcessor } from '../support/sqs.ts';
import { startTestQueue, type TestQueue } from './support/sqs.ts';

/** Rows by visit_id, as an upsert leaves them. */
function recordingStorage(): StoragePort & { rows: Map<string, { table: string; visit: Visit }> } {
  const rows = new Map<string, { table: string; visit: Visit }>();
  return {
    backend: 'recording',
    rows,
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      signal.throwIfAborted();
      for (const visit of visits) rows.set(visit.visitId, { table: type.table, visit });
    },
  };
}

async function depth(queue: TestQueue, url: string): Promise<number> {
  const { Attributes = {} } = await queue.client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

test('N visits through the agent, drained by the processor: exactly N rows in the right tables with ip and url', async (t) => {
  const queue = await startTestQueue();
  t.teardown(() => queue.stop());
  const sender = createSqsSender({ queueUrl: queue.queueUrl, endpoint: queue.endpoint, region: 'us-east-1', localCredentials: true });
  t.teardown(() => sender.close());
  const handle = createAgent({ send: sender.send, logger: pino({ level: 'silent' }) });

  const accepted: TrafficResult[] = [];
  const summary = await runTraffic({
    events: generateEvents({ count: 400, seed: 2026, mix: { 'type-in': 35, direct: 10, referrer: 40, invalid: 15 } }),
    invoke: handle,
    concurrency: 16,
    onResult: (result) => {
      if (result.outcome === 'accepted') accepted.push(result);
    },
  });
  t.is(summary.failed, 0);
  t.is(summary.unexpected, 0);
  t.true(summary.rejected > 30, `some visits rejected (${summary.rejected})`);
  t.is(accepted.length, summary.accepted);
  t.is(await depth(queue, queue.queueUrl), accepted.length, 'exactly the accepted visits are on the PIPELINE');

  const storage = recordingStorage();
  const processor = startTestProcessor(queue, storage, { POLLERS: '2', BATCH_LINGER_MS: '20' });
  const deadline = Date.now() + 30_000;
  while (storage.rows.size < accepted.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  processor.stop();
  await processor.done;

  t.is(storage.rows.size, accepted.length, 'one row per accepted visit, no more');
  for (const result of accepted) {
    const row = storage.rows.get(result.visitId!);
    const { type, ip, url } = result.event.expect;
    t.truthy(row, `${result.event.label}: written`);
    if (!row) continue;
    t.is(row.table, resolveVisitType(type!)!.table, result.event.label);
    t.deepEqual({ type: row.visit.type, ip: row.visit.ip, url: row.visit.url }, { type, ip, url }, result.event.label);
    t.true(Math.abs(row.visit.createdAt - Date.now()) < 60_000, 'created_at stamped by the agent');
  }
  const tables = new Set([...storage.rows.values()].map((r) => r.table));
  t.deepEqual([...tables].sort(), ['traffic_referrer', 'traffic_type_in']);
  t.is(await depth(queue, queue.queueUrl), 0, 'PIPELINE drained');
  t.is(await depth(queue, queue.dlqUrl), 0, 'nothing dead-lettered: rejected visits never reached the queue');
});
