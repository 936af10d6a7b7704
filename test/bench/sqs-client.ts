/**
 * `node test/bench/sqs-client.ts [--calls N] [--reps R] [--http]`: what an SQS call costs the
 * processor's client in CPU, against the SDK's default client: a ReceiveMessage of 10 and the
 * DeleteMessageBatch of those 10, alternately, 16 calls at a time. The clients run in this process,
 * alternating, and it prints the median CPU µs per call of each.
 * - By default, without a network: the SDK's clients answer from memory (a request handler), so only
 *   the SDK's own work counts: its default client, one with the processor's options (cached
 *   middleware, hashes) and one with those and its per-call costs cut (the path of the calls the
 *   processor still sends through the SDK, ./src/processor/sqs-per-call-costs.ts).
 * - With `--http`, over HTTP to a server in another process that answers at once
 *   (./canned-sqs-server.ts): the SDK's default client; the same options and cuts through the SDK
 *   (the processor's client before its per-message calls left the SDK, over the SDK's Node handler);
 *   and the processor's own, whose per-message calls skip the SDK's middleware
 *   (./src/processor/sqs-lean-calls.ts).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readOptions } from '../../scripts/support/cli.ts';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { HttpResponse } from '@smithy/core/protocols';
import { makeBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { LOCAL_CREDENTIALS } from '../../src/platform/sqs.ts';
import { processorSqsClient } from '../../src/processor/sqs-client.ts';
import { Md5, Sha256 } from '../../src/processor/sqs-hashes.ts';
import { cutPerCallCosts } from '../../src/processor/sqs-per-call-costs.ts';
import { median } from './harness.ts';

const cli = readOptions('sqs-client', 'usage: node test/bench/sqs-client.ts [--calls N] [--reps R] [--http]', {
  calls: { type: 'string', default: '4000' },
  reps: { type: 'string', default: '7' },
  http: { type: 'boolean', default: false },
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
const receiveAnswer = Buffer.from(JSON.stringify({ Messages: messages }));
const deleteAnswer = Buffer.from(JSON.stringify({ Successful: messages.map((m) => ({ Id: m.MessageId })), Failed: [] }));

/** Answers at once from memory, as an endpoint would. */
const requestHandler = {
  async handle(request: { headers: Record<string, string> }) {
    const body = request.headers['x-amz-target'] === 'AmazonSQS.ReceiveMessage' ? receiveAnswer : deleteAnswer;
    return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Readable.from([body]) }) };
  },
  updateHttpClientConfig() {},
  httpHandlerConfigs: () => ({}),
};

function client(options: Partial<SQSClientConfig>): SQSClient {
  return new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4566',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler,
    ...options,
  });
}

/** The canned server in its own process, and its endpoint. */
async function cannedServer(): Promise<{ endpoint: string; stop(): void }> {
  const answers = { ReceiveMessage: JSON.parse(receiveAnswer.toString()), '*': JSON.parse(deleteAnswer.toString()) };
  const child = spawn(process.execPath, [fileURLToPath(new URL('canned-sqs-server.ts', import.meta.url)), JSON.stringify(answers)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { endpoint: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, stop: () => child.kill() };
}

const server = cli.values.http ? await cannedServer() : undefined;
const processorOptions = { cacheMiddleware: true, sha256: Sha256, md5: Md5 };
const clients: Record<string, SQSClient> = server
  ? {
      'SDK default': new SQSClient({ region: 'us-east-1', endpoint: server.endpoint, credentials: LOCAL_CREDENTIALS }),
      'through the SDK': cutPerCallCosts(
        new SQSClient({ region: 'us-east-1', endpoint: server.endpoint, credentials: LOCAL_CREDENTIALS, ...processorOptions }),
      ),
      'processor client': processorSqsClient({
        connection: { region: 'us-east-1', endpoint: server.endpoint, localCredentials: true },
        deadlines: { callTimeoutMs: 5_000, connectTimeoutMs: 1_000, receiveMarginMs: 5_000 },
        maxWaitSeconds: 20,
        maxSockets: 32,
      }),
    }
  : {
      'SDK default': client({}),
      'processor options': client(processorOptions),
      'processor client': cutPerCallCosts(client(processorOptions)),
    };

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
for (const sqs of Object.values(clients)) sqs.destroy();
server?.stop();
