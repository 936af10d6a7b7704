/** `npm run enqueue` puts the body on the PIPELINE exactly as given, past the agent's checks. */
import test from 'ava';
import { drainQueue, startTestEndpoint } from '../support/sqs.ts';
import { runScript } from '../support/run-script.ts';

test('the body arrives on the PIPELINE unchanged; no body or two: the usage, exit 2', async (t) => {
  const sqs = await startTestEndpoint();
  t.teardown(() => sqs.stop());
  const env = { AWS_ENDPOINT_URL: sqs.endpoint, TRAFFIC_QUEUE_URL: sqs.queueUrl, TRAFFIC_DLQ_URL: sqs.dlqUrl };
  const body = '{"type":"banner","created_at":1}';
  const sent = await runScript('scripts/local/enqueue.ts', [body], env);
  t.is(sent.code, 0, sent.stderr);
  t.regex(sent.stdout, /^enqueued \S+ on /);
  t.deepEqual(
    (await drainQueue(sqs.client, sqs.queueUrl)).map((m) => m.Body),
    [body],
  );
  const none = await runScript('scripts/local/enqueue.ts', [], env);
  t.is(none.code, 2);
  t.regex(none.stderr, /^enqueue: give exactly one message body\nusage: npm run enqueue/);
});
