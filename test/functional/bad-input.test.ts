/**
 * Property-based bad input through a real endpoint and the processor: every random body is
 * dead-lettered with a reason (or written, if it happens to be a valid visit), the processor
 * never crashes, and valid traffic sent alongside keeps flowing.
 */
import test from 'ava';
import fc from 'fast-check';
import { parseVisitBody } from '../../src/contract/visit.ts';
import type { Report } from '../../machines/types.ts';
import { makeBurst, sendBurst, type BurstMessage } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { drainQueue, queueDepth, startTestEndpoint, startTestProcessor, waitFor } from '../support/sqs.ts';

/** Characters SQS accepts in a message body (fauxqs: the Basic Multilingual Plane only). */
const SQS_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]+$/u;

test('1,000 random bodies next to 1,000 visits: bad ones dead-lettered with a reason, good ones written, no crash', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const random = fc
    .sample(
      fc.oneof(
        fc.json(),
        fc.string({ unit: 'grapheme', maxLength: 500 }),
        fc.jsonValue().map((v) => JSON.stringify({ type: 'referrer', created_at: 1_764_000_000_000, v })),
      ),
      { numRuns: 3_000, seed: 7 },
    )
    .filter((body) => SQS_TEXT.test(body))
    .slice(0, 1_000);
  t.is(random.length, 1_000);
  const good = makeBurst(1_000, 0, seededRandom(3));
  // Interleaved, so bad and good bodies share receives and batches.
  const mixed: BurstMessage[] = good.flatMap((message, i) => [{ body: random[i] }, message]);
  await sendBurst(sqs.client, sqs.queueUrl, mixed);

  const storage = createRecordingStorage();
  const reports: Report[] = [];
  const processor = startTestProcessor(sqs, storage, {}, (r) => reports.push(r));
  const expectedInvalid = random.filter((body) => !parseVisitBody(body, 'm').ok).length;
  await waitFor(
    async () => {
      const depth = await queueDepth(sqs.client, sqs.queueUrl);
      return depth.visible + depth.invisible === 0;
    },
    60_000,
    'the queue to drain',
  );
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });

  t.false(
    reports.some((r) => r.kind === 'child-crashed'),
    'no actor crashed',
  );
  for (const message of good) t.truthy(storage.rows.get(message.visitId!), 'valid traffic kept flowing');
  const dead = await drainQueue(sqs.client, sqs.dlqUrl);
  t.is(dead.length, expectedInvalid, 'every invalid body dead-lettered once');
  for (const message of dead) {
    t.truthy(message.MessageAttributes?.error_code?.StringValue);
    t.truthy(message.MessageAttributes?.error_message?.StringValue);
  }
});
