/**
 * `node test/bench/sqs-client.ts [--calls N] [--reps R]`: what the AWS SDK costs per call on the
 * processor's path, without a network. Three SQS clients answer from memory (a ReceiveMessage
 * of 10 and the DeleteMessageBatch of those 10, alternately): the SDK's default client, one with
 * the processor's options (cached middleware, hashes), and the processor's own (those options
 * and its per-call costs cut, ./src/processor/sqs-per-call-costs.ts). They run in this process,
 * alternating, and print the median CPU µs per call.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { readOptions } from '../../scripts/support/cli.ts';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { HttpResponse } from '@smithy/core/protocols';
import { makeBurst } from '../../scripts/support/burst.ts';
import { seededRandom } from '../../scripts/support/random.ts';
import { Md5, Sha256 } from '../../src/processor/sqs-hashes.ts';
import { cutPerCallCosts } from '../../src/processor/sqs-per-call-costs.ts';
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

const processorOptions = { cacheMiddleware: true, sha256: Sha256, md5: Md5 };
const clients: Record<string, SQSClient> = {
  'SDK default': client({}),
  'processor options': client(processorOptions),
  'processor client': cutPerCallCosts(client(processorOptions)),
};

const QueueUrl = 'http://127.0.0.1:4566/000000000000/traffic-pipeline';

/** CPU µs per call over `calls` calls (half receives, half deletes). */
async function run(sqs: SQSClient): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < calls / 2; i++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    if (Messages.length !== 10) throw new Error(`received ${Messages.length} messages, expected 10`);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m) => ({ Id: m.MessageId!, ReceiptHandle: m.ReceiptHandle! })) }));
  }
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
