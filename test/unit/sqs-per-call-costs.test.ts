/**
 * A client whose per-call costs are cut sends the requests the SDK's default client sends,
 * signed alike, and reads the same answers and errors; its signer is built once and follows
 * the client's credential provider; its serde and its endpoint copy, on every call, a plain copy
 * of the configuration made once.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import test from 'ava';
import { Md5, Sha256 } from '../../src/processor/sqs-hashes.ts';
import { cutPerCallCosts } from '../../src/processor/sqs-per-call-costs.ts';

const QueueUrl = 'http://127.0.0.1:4566/000000000000/traffic-pipeline';
const body = (i: number) => JSON.stringify({ type: 'referrer', created_at: '2026-11-26T00:00:00.000Z', url: `https://example.com/${i}` });
const messages = [1, 2, 3].map((i) => ({
  MessageId: `m-${i}`,
  ReceiptHandle: `handle-${i}`,
  MD5OfBody: createHash('md5').update(body(i)).digest('hex'),
  Body: body(i),
  Attributes: { ApproximateReceiveCount: String(i) },
}));
const entries = messages.map((m) => ({ Id: m.MessageId, ReceiptHandle: m.ReceiptHandle }));

/** What the endpoint answers, by operation. */
const answers: Record<string, { status: number; body: unknown }> = {
  ReceiveMessage: { status: 200, body: { Messages: messages } },
  DeleteMessageBatch: {
    status: 200,
    body: { Successful: [{ Id: 'm-1' }, { Id: 'm-2' }], Failed: [{ Id: 'm-3', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] },
  },
  ChangeMessageVisibilityBatch: { status: 200, body: { Successful: entries.map(({ Id }) => ({ Id })), Failed: [] } },
  SendMessageBatch: {
    status: 200,
    body: { Successful: [{ Id: 'm-1', MessageId: 'dlq-1', MD5OfMessageBody: createHash('md5').update('bad').digest('hex') }], Failed: [] },
  },
  GetQueueAttributes: { status: 200, body: { Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:traffic-pipeline', VisibilityTimeout: '30' } } },
  GetQueueUrl: { status: 400, body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' } },
};

interface Sent {
  method: string;
  hostname: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A client that records what it would send and gets the answers above, signing at a fixed clock. */
function recordingClient(options: Partial<SQSClientConfig> = {}) {
  const sent: Sent[] = [];
  const requestHandler = {
    async handle(request: HttpRequest) {
      const body = typeof request.body === 'string' ? request.body : Buffer.from(request.body as Uint8Array).toString();
      sent.push({ method: request.method, hostname: request.hostname, path: request.path, headers: { ...request.headers }, body });
      const answer = answers[request.headers['x-amz-target']!.split('.')[1]!]!;
      const response = new HttpResponse({
        statusCode: answer.status,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'request-1' },
        body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
      });
      return { response };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4566',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    cacheMiddleware: true,
    sha256: Sha256,
    md5: Md5,
    requestHandler,
    ...options,
  });
  return { client, sent };
}

const commands = () => [
  new ReceiveMessageCommand({
    QueueUrl,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 20,
    VisibilityTimeout: 30,
    MessageSystemAttributeNames: ['ApproximateReceiveCount'],
  }),
  new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }),
  new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries: entries.map((e) => ({ ...e, VisibilityTimeout: 60 })) }),
  new SendMessageBatchCommand({
    QueueUrl: `${QueueUrl}-dlq`,
    Entries: [{ Id: 'm-1', MessageBody: 'bad', MessageAttributes: { reason: { DataType: 'String', StringValue: 'malformed_json' } } }],
  }),
  new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }),
  new GetQueueUrlCommand({ QueueName: 'missing' }),
];

/** Sends each command; what came back, errors included, without the parts that differ per call. */
async function sendAll(client: SQSClient): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const command of commands()) {
    try {
      const { $metadata, ...output } = (await client.send(command as never)) as { $metadata: unknown };
      results.push({ output, $metadata });
    } catch (error) {
      const { name, message, $fault, $metadata } = error as { name: string; message: string; $fault: string; $metadata: unknown };
      results.push({ error: { name, message, $fault, $metadata } });
    }
  }
  return results;
}

/**
 * Runs `fn` with the clock and the invocation ids (a signed header) the same at each run, so two
 * clients sending the same calls send the same bytes, signatures included.
 */
async function reproducibly<T>(fn: () => Promise<T>): Promise<T> {
  const now = Date.now;
  let ids = 0;
  Date.now = () => Date.parse('2026-11-26T00:00:00.000Z');
  Object.defineProperty(globalThis.crypto, 'randomUUID', {
    value: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    configurable: true,
  });
  try {
    return await fn();
  } finally {
    Date.now = now;
    Reflect.deleteProperty(globalThis.crypto, 'randomUUID');
  }
}

test.serial('every command the processor sends: the same request, signature, answer and error as the default client', async (t) => {
  const reference = recordingClient();
  const cut = recordingClient();
  cutPerCallCosts(cut.client);
  const expected = await reproducibly(() => sendAll(reference.client));
  const actual = await reproducibly(() => sendAll(cut.client));
  t.deepEqual(actual, expected);
  t.is(reference.sent.length, commands().length);
  t.deepEqual(cut.sent, reference.sent);
  t.true(cut.sent.every((r) => r.headers.authorization?.startsWith('AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/sqs/aws4_request')));
  t.like(actual[1], { output: { Failed: [{ Id: 'm-3', Code: 'ReceiptHandleIsInvalid' }] } });
  t.like(actual[5], { error: { name: 'QueueDoesNotExist' } });
});

test.serial('one signer for the client, which signs with the credentials its provider renews, as the default client does', async (t) => {
  /** Two calls with credentials close to expiry: the SDK's provider asks for new ones on every call. */
  const keysSigned = async (cut: boolean) => {
    let issued = 0;
    const credentials = async () => ({ accessKeyId: `key-${++issued}`, secretAccessKey: `secret-${issued}`, expiration: new Date(Date.now() + 1_000) });
    const { client, sent } = recordingClient({ credentials });
    if (cut) cutPerCallCosts(client);
    const signers = new Set<unknown>();
    const sign = SignatureV4.prototype.sign;
    SignatureV4.prototype.sign = function (this: SignatureV4, ...args: Parameters<typeof sign>) {
      signers.add(this);
      return sign.apply(this, args);
    } as typeof sign;
    try {
      await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
      await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
    } finally {
      SignatureV4.prototype.sign = sign;
    }
    return { signers: signers.size, keys: sent.map((r) => /Credential=([^/]+)\//.exec(r.headers.authorization!)?.[1]) };
  };
  const reference = await keysSigned(false);
  const cut = await keysSigned(true);
  t.is(reference.signers, 2, 'the default client builds a signer per call');
  t.is(cut.signers, 1, 'the same signer signed both calls');
  t.is(new Set(cut.keys).size, 2, 'each call signed with the credentials of its time');
  t.deepEqual(cut.keys, reference.keys);
});

test.serial('the serde copies the configuration as it was when the costs were cut, not the live one on each call', async (t) => {
  const { client } = recordingClient();
  // The object the client was built with: after the cut, client.config is another copy.
  const live = client.config as unknown as Record<string, unknown>;
  cutPerCallCosts(client);
  type Protocol = Record<'serializeRequest' | 'deserializeResponse', (...args: unknown[]) => unknown>;
  const { protocol } = live as unknown as { protocol: Protocol };
  const contexts: Record<string, Array<Record<string, unknown>>> = { serializeRequest: [], deserializeResponse: [] };
  for (const step of ['serializeRequest', 'deserializeResponse'] as const) {
    const original = protocol[step].bind(protocol);
    protocol[step] = (schema, second, context) => {
      contexts[step]!.push((step === 'serializeRequest' ? context : second) as Record<string, unknown>);
      return original(schema, second, context);
    };
  }
  // Added after the cut: the SDK's own serializer and deserializer would copy it into their context on the next call.
  live.addedLater = true;
  await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
  for (const step of ['serializeRequest', 'deserializeResponse'] as const) {
    t.is(contexts[step]!.length, 1, step);
    t.is(contexts[step]![0]!.addedLater, undefined, step);
    t.is(contexts[step]![0]!.protocol, protocol, `${step}: the copy holds the client's protocol`);
  }
});

test.serial('the endpoint copies the configuration as it was when the costs were cut, not the live one on each call', async (t) => {
  const { client } = recordingClient();
  const live = client.config as unknown as Record<string, unknown> & { endpointProvider: (...args: unknown[]) => unknown };
  // The endpoint middleware calls the provider on its per-call copy of the configuration: `this` is that copy.
  const copies: Array<Record<string, unknown>> = [];
  const provider = live.endpointProvider;
  live.endpointProvider = function (this: Record<string, unknown>, ...args: unknown[]) {
    copies.push(this);
    return provider.apply(this, args);
  };
  cutPerCallCosts(client);
  // Added after the cut to the configuration the client was built with, which the SDK's endpoint would copy on each call.
  live.addedLater = true;
  await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
  await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
  t.is(copies.length, 2);
  for (const copy of copies) {
    t.is(copy.addedLater, undefined);
    t.is(copy.signer, live.signer, "the copy hands out the client's one signer");
  }
});
