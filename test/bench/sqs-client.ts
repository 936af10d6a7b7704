/**
 * `node test/bench/sqs-client.ts [--calls N] [--reps R]`: what an SQS call costs the processor's
 * client in CPU, against the SDK's default client, over HTTP to a server in another process that
 * answers at once (./canned-sqs-server.ts): a ReceiveMessage of 10 and the DeleteMessageBatch of
 * those 10, alternately, 16 calls at a time. The processor's per-message calls skip the SDK's
 * middleware (./src/processor/sqs/lean-calls.ts), signed by the SDK's SignatureV4; with
 * SQS_LEAN_CALLS=off they go through the SDK. The clients run in this process, alternating, and it
 * prints the median CPU µs per call of each, and what one SignatureV4 signature of such a request costs.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readOptions } from '../../scripts/support/cli.ts';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { makeBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { LOCAL_CREDENTIALS } from '../../src/platform/sqs.ts';
import { processorSqsClient } from '../../src/processor/sqs/client.ts';
import { median } from './harness.ts';

const cli = readOptions('sqs-client', 'usage: node test/bench/sqs-client.ts [--calls N] [--reps R]', {
  calls: { type: 'string', default: '4000' },
  reps: { type: 'string', default: '7' },
});
const calls = cli.wholeNumber('calls', cli.values.calls, 2);
const reps = cli.wholeNumber('reps', cli.values.reps, 1);

const messages = makeBurst(10, 0, seededRandom(1)).map(({ body: Body }, i) => ({
  MessageId: `m-${i}`,
  ReceiptHandle: `handle-${i}-${'x'.repeat(150)}`,
  MD5OfBody: createHash('md5').update(Body).digest('hex'),
  Body,
  Attributes: { ApproximateReceiveCount: '1' },
}));

/** The canned server in its own process, and its endpoint. */
async function cannedServer(): Promise<{ endpoint: string; stop(): void }> {
  const answers = { ReceiveMessage: { Messages: messages }, '*': { Successful: messages.map((m) => ({ Id: m.MessageId })), Failed: [] } };
  const child = spawn(process.execPath, [fileURLToPath(new URL('canned-sqs-server.ts', import.meta.url)), JSON.stringify(answers)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { endpoint: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, stop: () => child.kill() };
}

const server = await cannedServer();
const clients: Record<string, SQSClient> = {
  'SDK default': new SQSClient({ region: 'us-east-1', endpoint: server.endpoint, credentials: LOCAL_CREDENTIALS }),
  'processor client': processorSqsClient(processorOptions(true)),
  'SQS_LEAN_CALLS=off': processorSqsClient(processorOptions(false)),
};

function processorOptions(leanCalls: boolean) {
  return {
    connection: { region: 'us-east-1', endpoint: server.endpoint, localCredentials: true },
    deadlines: { callTimeoutMs: 5_000, connectTimeoutMs: 1_000, receiveMarginMs: 5_000 },
    maxWaitSeconds: 20,
    maxSockets: 32,
    leanCalls,
  };
}

const QueueUrl = 'http://127.0.0.1:4566/000000000000/traffic-pipeline';

/** One receive of 10 and the delete of those 10. */
async function pair(sqs: SQSClient): Promise<void> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  if (Messages.length !== 10) throw new Error(`received ${Messages.length} messages, expected 10`);
  await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m) => ({ Id: m.MessageId!, ReceiptHandle: m.ReceiptHandle! })) }));
}

/** CPU µs per call over `calls` calls (half receives, half deletes), 16 at a time as 16 pollers would. */
async function run(sqs: SQSClient): Promise<number> {
  const start = process.cpuUsage();
  let pairsLeft = calls / 2;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (pairsLeft-- > 0) await pair(sqs);
    }),
  );
  const { user, system } = process.cpuUsage(start);
  return (user + system) / calls;
}

for (const sqs of Object.values(clients)) await run(sqs); // warm-up
const runs: Record<string, number[]> = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
for (let r = 0; r < reps; r++) for (const [name, sqs] of Object.entries(clients)) runs[name]!.push(await run(sqs));
const baseline = median(runs['SDK default']!);
console.log(`${calls} calls per run, ${reps} runs each, alternating; CPU µs per call (median, runs)`);
for (const [name, list] of Object.entries(runs)) {
  const m = median(list);
  console.log(
    `  ${name.padEnd(18)} ${m.toFixed(1).padStart(6)}  (${(m / baseline).toFixed(2)} × SDK default)  runs ${list.map((v) => v.toFixed(0)).join(' ')}`,
  );
}
/** CPU µs of one SignatureV4 signature of a DeleteMessageBatch of 10, as the lean calls sign it (their hash, the body's hash given). */
async function signatureCost(): Promise<number> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('../../src/processor/sqs/lean-calls.ts');
  const signer = new SignatureV4({ credentials: LOCAL_CREDENTIALS, region: 'us-east-1', service: 'sqs', sha256: Sha256 as never });
  const body = JSON.stringify({ QueueUrl, Entries: messages.map((m) => ({ Id: m.MessageId, ReceiptHandle: m.ReceiptHandle })) });
  const request = () => ({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    path: '/',
    query: {},
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.DeleteMessageBatch',
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      host: '127.0.0.1:4566',
    },
    body,
  });
  for (let i = 0; i < 2_000; i++) await signer.sign(request());
  const n = 20_000;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await signer.sign(request());
  const { user, system } = process.cpuUsage(start);
  return (user + system) / n;
}
console.log(`  one SignatureV4 signature (DeleteMessageBatch of 10): ${(await signatureCost()).toFixed(1)} µs CPU`);
for (const sqs of Object.values(clients)) sqs.destroy();
server.stop();
