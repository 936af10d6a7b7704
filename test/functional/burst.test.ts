/**
 * A burst of 10,000 messages against a real SQS endpoint (fauxqs), with a storage adapter
 * that fails some calls: every valid visit written once by visit_id, every invalid one
 * in the DLQ with its reason, both queues empty at the end.
 */
import test from 'ava';
import { makeBurst, sendBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { createRecordingStorage } from '../support/recording-storage.ts';
import { drainQueue, queueDepth, startTestEndpoint, startTestProcessor, waitFor } from '../support/sqs.ts';

test('a 10,000-message burst is written exactly once per visit, invalid traffic dead-lettered with its reason', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const random = seededRandom(20261124);
  const burst = makeBurst(10_000, 0.05, random);
  const valid = burst.filter((m) => m.visitId);
  const invalid = burst.filter((m) => m.expectedCode);
  t.true(invalid.length > 300 && invalid.length < 700, `about 5 % invalid (${invalid.length})`);
  t.true(
    burst.some((m) => m.body.includes('"direct"')),
    'direct aliases in the burst',
  );
  await sendBurst(sqs.client, sqs.queueUrl, burst);

  const storage = createRecordingStorage({ failRate: 0.1, random: seededRandom(7) });
  const processor = startTestProcessor(sqs, storage, { POLLERS: '8', WRITE_MAX_ATTEMPTS: '10' }, undefined, { retryBaseMs: 10, retryMaxMs: 200 });
  const started = Date.now();
  await waitFor(
    async () => storage.rows.size >= valid.length && (await queueDepth(sqs.client, sqs.dlqUrl)).visible >= invalid.length,
    90_000,
    'the burst to drain',
  );
  t.log(`drained ${burst.length} messages in ${Date.now() - started} ms; ${storage.calls} storage calls, ${storage.failures} failed`);
  processor.stop();
  t.deepEqual(await processor.done, { status: 'stopped' });

  t.true(storage.failures > 0, 'the storage adapter did fail some calls');
  t.is(storage.rows.size, valid.length, 'one row per valid visit');
  // Rows are kept by visit_id, so a second write of a visit would not show there: count the writes.
  const rewritten = [...storage.writes].filter(([, n]) => n !== 1);
  t.deepEqual(rewritten, [], 'each visit written exactly once (no lease lapsed, no batch written twice)');
  t.is(
    [...storage.writes.values()].reduce((a, b) => a + b, 0),
    valid.length,
    'as many row writes as valid visits',
  );
  for (const message of valid) {
    const row = storage.rows.get(message.visitId!);
    t.truthy(row, `visit ${message.visitId} written`);
    t.is(row?.table, message.table);
  }
  const dead = await drainQueue(sqs.client, sqs.dlqUrl);
  t.is(dead.length, invalid.length, 'every invalid message in the DLQ, once');
  const codesByBody = new Map(invalid.map((m) => [m.body, m.expectedCode]));
  for (const message of dead) {
    t.is(message.MessageAttributes?.error_code?.StringValue, codesByBody.get(message.Body!), `reason of ${message.Body}`);
    t.truthy(message.MessageAttributes?.error_message?.StringValue);
  }
  t.deepEqual(await queueDepth(sqs.client, sqs.queueUrl), { visible: 0, invisible: 0 }, 'PIPELINE empty');
  t.deepEqual(await queueDepth(sqs.client, sqs.dlqUrl), { visible: 0, invisible: 0 }, 'DLQ drained by the test');
});
