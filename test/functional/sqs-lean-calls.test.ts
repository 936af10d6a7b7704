/**
 * The processor's per-message calls, sent without the SDK's middleware, against a local HTTP
 * server that records each request and answers as SQS would: the same request as the SDK's
 * default client (operation, body, a signature that verifies over the bytes received), the same
 * outputs and errors, the MD5 checks, the endpoint the SDK resolves, retries as its standard mode.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RetryStrategyV2 } from '@smithy/types';
import { ReferenceSha256 } from '../support/reference-sha256.ts';
import test, { type ExecutionContext } from 'ava';
import { LOCAL_CREDENTIALS } from '../../src/platform/sqs.ts';
import { processorSqsClient } from '../../src/processor/sqs/client.ts';

/** A self-signed certificate for 127.0.0.1, made for these tests only. */
const TEST_CERTIFICATE = {
  key: readFileSync(new URL('../fixtures/tls/test-only.key.pem', import.meta.url)),
  cert: readFileSync(new URL('../fixtures/tls/test-only.cert.pem', import.meta.url)),
};

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const body = (i: number) => JSON.stringify({ type: 'referrer', created_at: 1764115200000 + i, url: `https://example.com/é/${i}` });
const messages = [1, 2, 3].map((i) => ({
  MessageId: `m-${i}`,
  ReceiptHandle: `handle-${i}`,
  MD5OfBody: md5(body(i)),
  Body: body(i),
  Attributes: { ApproximateReceiveCount: String(i) },
}));

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** When it arrived (ms). */
  readonly at: number;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Close the connection without answering. */
  readonly drop?: boolean;
  /** The body as it is sent, instead of `body` as JSON. */
  readonly raw?: string;
}

/** A server that records every request and answers each with the next answer its test gives (over TLS with `tls`). */
async function recordingServer(t: ExecutionContext, answer: (request: Received, n: number) => Answer, tls = false) {
  const received: Received[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      received.push(request);
      const a = answer(request, received.length);
      if (a.drop) {
        req.socket.destroy();
        return;
      }
      const text = a.raw ?? JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${received.length}`, ...a.headers });
      res.end(text);
    });
  };
  const server: Server = tls ? createTlsServer(TEST_CERTIFICATE, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return { endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`, received };
}

function leanClient(
  t: ExecutionContext,
  endpoint: string | undefined,
  region = 'us-east-1',
  localCredentials = true,
  more: { leanCalls?: boolean; retryStrategy?: RetryStrategyV2 } = {},
) {
  const client = processorSqsClient({
    connection: { region, endpoint, localCredentials },
    deadlines: { callTimeoutMs: 2_000, connectTimeoutMs: 1_000, receiveMarginMs: 1_000 },
    maxWaitSeconds: 1,
    maxSockets: 4,
    ...more,
  });
  t.teardown(() => client.destroy());
  return client;
}

function sdkClient(t: ExecutionContext, endpoint: string) {
  const client = new SQSClient({ region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS });
  t.teardown(() => client.destroy());
  return client;
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** SigV4 computed again over the request as it arrived, its body's hash included: what SQS checks. */
async function signatureVerifies(request: Received, credentials: Credentials = LOCAL_CREDENTIALS): Promise<boolean> {
  const { authorization, ...headers } = request.headers as Record<string, string>;
  if (headers['x-amz-content-sha256'] !== createHash('sha256').update(request.body).digest('hex')) return false;
  const date = headers['x-amz-date'].replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  // The session token is one of the signed headers the request carries: not added again here.
  const { sessionToken, ...keys } = credentials;
  const signer = new SignatureV4({ credentials: keys, region: 'us-east-1', service: 'sqs', sha256: ReferenceSha256 as never });
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1].split(';');
  const signable = Object.fromEntries(Object.entries(headers).filter(([name]) => signedHeaders.includes(name)));
  if (sessionToken !== undefined && signable['x-amz-security-token'] !== sessionToken) return false;
  const [hostname, port] = headers.host.split(':');
  const again = await signer.sign(
    { method: request.method, protocol: 'http:', hostname, port: Number(port), path: request.url, query: {}, headers: signable, body: request.body },
    { signingDate: new Date(date) },
  );
  return again.headers.authorization === authorization;
}

const QueueUrl = (endpoint: string) => `${endpoint}/000000000000/traffic-pipeline`;

const calls = (endpoint: string) => [
  new ReceiveMessageCommand({
    QueueUrl: QueueUrl(endpoint),
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 1,
    MessageSystemAttributeNames: ['ApproximateReceiveCount'],
  }),
  new DeleteMessageBatchCommand({ QueueUrl: QueueUrl(endpoint), Entries: messages.map((m) => ({ Id: m.MessageId, ReceiptHandle: m.ReceiptHandle })) }),
  new ChangeMessageVisibilityBatchCommand({
    QueueUrl: QueueUrl(endpoint),
    Entries: messages.map((m) => ({ Id: m.MessageId, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 30 })),
  }),
  new SendMessageBatchCommand({
    QueueUrl: QueueUrl(endpoint),
    Entries: messages.map((m) => ({
      Id: m.MessageId,
      MessageBody: m.Body,
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'unknown_type' } },
    })),
  }),
];

/** SQS's answers to the calls above, by operation. */
function sqsAnswer(request: Received): Answer {
  const input = JSON.parse(request.body) as { Entries?: Array<{ Id: string; MessageBody?: string }> };
  switch (request.headers['x-amz-target']) {
    case 'AmazonSQS.ReceiveMessage':
      return { status: 200, body: { Messages: messages } };
    case 'AmazonSQS.DeleteMessageBatch':
      return { status: 200, body: { Successful: [{ Id: 'm-1' }, { Id: 'm-2' }], Failed: [{ Id: 'm-3', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] } };
    case 'AmazonSQS.SendMessageBatch':
      return { status: 200, body: { Successful: input.Entries!.map((e) => ({ Id: e.Id, MessageId: `dlq-${e.Id}`, MD5OfMessageBody: md5(e.MessageBody!) })) } };
    default:
      return { status: 200, body: { Successful: input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] } };
  }
}

const withoutMetadata = (output: unknown) => {
  const { $metadata, ...rest } = output as { $metadata: unknown };
  return rest;
};

test('each per-message call: the request the SDK sends, signed so that it verifies as received, and the output the SDK reads', async (t) => {
  const server = await recordingServer(t, sqsAnswer);
  const lean = leanClient(t, server.endpoint);
  const sdk = sdkClient(t, server.endpoint);
  for (const command of calls(server.endpoint)) {
    const leanOutput = await lean.send(command as never);
    const leanRequest = server.received.at(-1)!;
    const sdkOutput = await sdk.send(command as never);
    const sdkRequest = server.received.at(-1)!;
    const name = command.constructor.name;
    t.deepEqual(withoutMetadata(leanOutput), withoutMetadata(sdkOutput), name);
    t.is(leanRequest.method, sdkRequest.method, name);
    t.is(leanRequest.url, sdkRequest.url, name);
    t.deepEqual(JSON.parse(leanRequest.body), JSON.parse(sdkRequest.body), name);
    for (const header of ['content-type', 'x-amz-target', 'x-amzn-query-mode', 'host', 'content-length']) {
      t.is(leanRequest.headers[header], sdkRequest.headers[header], `${name}: ${header}`);
    }
    // The SDK's version and api, and that the call skipped its middleware.
    t.regex(String(leanRequest.headers['user-agent']), /^aws-sdk-js\/\S+ api\/sqs#\S+ .* lib\/traffic-lean-calls$/, name);
    t.true(await signatureVerifies(leanRequest), `${name}: the signature verifies`);
    t.true(await signatureVerifies(sdkRequest), `${name}: the SDK's signature verifies (the check itself works)`);
    t.like((leanOutput as { $metadata: object }).$metadata, { httpStatusCode: 200, requestId: `req-${server.received.length - 1}`, attempts: 1 });
  }
});

test('a changed body or header no longer verifies (the signature check above can fail)', async (t) => {
  const server = await recordingServer(t, sqsAnswer);
  await leanClient(t, server.endpoint).send(calls(server.endpoint)[1] as never);
  const [request] = server.received;
  t.true(await signatureVerifies(request));
  t.false(await signatureVerifies({ ...request, body: request.body.replace('handle-1', 'handle-9') }));
  t.false(await signatureVerifies({ ...request, headers: { ...request.headers, 'x-amz-target': 'AmazonSQS.ReceiveMessage' } }));
});

test('an error answer becomes the error the SDK makes: name, code, fault, status and request id, not retried', async (t) => {
  const missing = {
    status: 400,
    headers: { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' },
    body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
  };
  const server = await recordingServer(t, () => missing);
  const [receive] = calls(server.endpoint);
  const leanError = await t.throwsAsync(leanClient(t, server.endpoint).send(receive as never));
  const sdkError = await t.throwsAsync(sdkClient(t, server.endpoint).send(receive as never));
  const view = (e: unknown) => {
    const { name, message, Code, $fault, $metadata } = e as {
      name: string;
      message: string;
      Code: string;
      $fault: string;
      $metadata: { httpStatusCode: number };
    };
    return { name, message, Code, $fault, status: $metadata.httpStatusCode };
  };
  t.deepEqual(view(leanError), view(sdkError));
  t.deepEqual(view(leanError), {
    name: 'QueueDoesNotExist',
    message: 'The specified queue does not exist.',
    Code: 'AWS.SimpleQueueService.NonExistentQueue',
    $fault: 'client',
    status: 400,
  });
  t.is(server.received.length, 2, 'one request each: a client error is not retried');
});

test('a body that does not match its MD5 fails the receive; a DLQ copy whose MD5 differs fails the send, as with the SDK', async (t) => {
  const wrong = messages.map((m, i) => (i === 1 ? { ...m, Body: `${m.Body} ` } : m));
  const server = await recordingServer(t, (request) =>
    request.headers['x-amz-target'] === 'AmazonSQS.ReceiveMessage'
      ? { status: 200, body: { Messages: wrong } }
      : { status: 200, body: { Successful: [{ Id: 'm-1', MessageId: 'dlq-1', MD5OfMessageBody: md5('other') }] } },
  );
  const [receive, , , send] = calls(server.endpoint);
  const lean = leanClient(t, server.endpoint);
  const sdk = sdkClient(t, server.endpoint);
  for (const command of [receive, send]) {
    const leanError = await t.throwsAsync(lean.send(command as never));
    const sdkError = await t.throwsAsync(sdk.send(command as never));
    t.is(leanError.message, sdkError.message);
  }
  t.is((await t.throwsAsync(lean.send(receive as never))).message, 'Invalid MD5 checksum on messages: m-2');
});

test("server errors, throttling and dropped connections are tried again by the client's retry strategy, three attempts in all; client errors are not", async (t) => {
  const failures: Answer[] = [
    { status: 500, body: { __type: 'InternalError', message: 'boom' } },
    { status: 400, body: { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' } },
    { status: 0, body: null, drop: true },
  ];
  for (const failure of failures) {
    const server = await recordingServer(t, (request, n) => (n === 1 ? failure : sqsAnswer(request)));
    const output = await leanClient(t, server.endpoint).send(calls(server.endpoint)[1] as never);
    t.is((output as { $metadata: { attempts: number } }).$metadata.attempts, 2, JSON.stringify(failure));
    t.is(server.received.length, 2);
  }
  const always = await recordingServer(t, () => failures[0]!);
  const error = await t.throwsAsync(leanClient(t, always.endpoint).send(calls(always.endpoint)[1] as never));
  t.like(error, { name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500, attempts: 3 } });
  t.is(always.received.length, 3);
  const refused = await recordingServer(t, () => ({ status: 400, body: { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'no' } }));
  await t.throwsAsync(leanClient(t, refused.endpoint).send(calls(refused.endpoint)[1] as never), { name: 'InvalidParameterValue' });
  t.is(refused.received.length, 1);
});

test("with a client clock 10 minutes behind, the call is signed again with the server's clock and retried, and the next ones are right at once", async (t) => {
  // Either answer to a stale signature: the first the SDK retries by its message, the second only as a corrected skew.
  const refusals = [
    { __type: 'com.amazonaws.sqs#InvalidSignatureException', message: 'Signature expired: 20261126T080000Z is now earlier than ...' },
    { __type: 'com.amazonaws.sqs#SignatureDoesNotMatch', message: 'Signature not yet current' },
  ];
  for (const refusal of refusals) {
    const ahead = 600_000;
    const server = await recordingServer(t, (request) => {
      const serverNow = Date.now() + ahead;
      const date = new Date(serverNow).toUTCString();
      const signedAt = Date.parse(String(request.headers['x-amz-date']).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
      if (Math.abs(serverNow - signedAt) > 300_000) return { status: 400, headers: { date }, body: refusal };
      return { ...sqsAnswer(request), headers: { date } };
    });
    const lean = leanClient(t, server.endpoint);
    const first = await lean.send(calls(server.endpoint)[1] as never);
    t.is((first as { $metadata: { attempts: number } }).$metadata.attempts, 2, refusal.__type);
    const second = await lean.send(calls(server.endpoint)[2] as never);
    t.is((second as { $metadata: { attempts: number } }).$metadata.attempts, 1, refusal.__type);
    t.is(server.received.length, 3, refusal.__type);
  }
});

test('an endpoint with a path prefix is called under it, as the SDK calls it', async (t) => {
  const server = await recordingServer(t, sqsAnswer);
  await leanClient(t, `${server.endpoint}/prefix`).send(calls(server.endpoint)[1] as never);
  await sdkClient(t, `${server.endpoint}/prefix`).send(calls(server.endpoint)[1] as never);
  t.is(server.received[0]!.url, '/prefix/');
  t.is(server.received[0]!.url, server.received[1]!.url);
  t.true(await signatureVerifies(server.received[0]!));
});

test('an endpoint on an IPv6 literal is reached', async (t) => {
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(String(req.headers.host));
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ Successful: [{ Id: 'a' }], Failed: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
  t.teardown(() => server.close());
  const endpoint = `http://[::1]:${(server.address() as { port: number }).port}`;
  const output = await leanClient(t, endpoint).send(
    new DeleteMessageBatchCommand({ QueueUrl: `${endpoint}/000000000000/q`, Entries: [{ Id: 'a', ReceiptHandle: 'h' }] }) as never,
  );
  t.deepEqual((output as { Successful: unknown[] }).Successful, [{ Id: 'a' }]);
  t.deepEqual(received, [endpoint.slice('http://'.length)]);
});

test('with the credentials a container gets (session tokens, renewed as they near expiry), each request is signed with the token it carries, over HTTPS', async (t) => {
  // The SDK's default chain, as on Fargate: the container credentials endpoint, here on 127.0.0.1, hands out a new token each time.
  const issued: Credentials[] = [];
  const credentialsServer = createServer((_req, res) => {
    const credentials = { accessKeyId: `ASIA${issued.length}`, secretAccessKey: `secret-${issued.length}`, sessionToken: `token-${issued.length}` };
    issued.push(credentials);
    res.writeHead(200, { 'content-type': 'application/json' });
    // Expiring within the SDK's 5-minute margin, so it asks again before each signature.
    res.end(
      JSON.stringify({
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: new Date(Date.now() + 120_000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => credentialsServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => credentialsServer.close());
  const environment = {
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(credentialsServer.address() as { port: number }).port}/credentials`,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    // The test's certificate is self-signed.
    NODE_TLS_REJECT_UNAUTHORIZED: '0',
  };
  const before = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(environment);
  t.teardown(() => set(before));
  const server = await recordingServer(t, sqsAnswer, true);
  const lean = leanClient(t, server.endpoint, 'us-east-1', false);
  // The SDK renews in the background and signs with the old credentials meanwhile: a few calls apart.
  for (let i = 0; i < 4; i++) {
    await lean.send(calls(server.endpoint)[1] as never);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(server.received.length, 4);
  t.true(issued.length >= 2, `credentials asked for ${issued.length} times`);
  for (const request of server.received) {
    const credentials = issued.find((c) => request.headers['x-amz-security-token'] === c.sessionToken);
    t.truthy(credentials, 'signed with a token the credentials endpoint issued');
    t.true(await signatureVerifies(request, credentials));
  }
  t.not(server.received[0]!.headers['x-amz-security-token'], server.received[3]!.headers['x-amz-security-token'], 'the renewed token is used');
});

test('an aborted call makes no further attempt', async (t) => {
  const server = await recordingServer(t, () => ({ status: 503, body: { __type: 'ServiceUnavailable', message: 'later' } }));
  const caller = new AbortController();
  const sent = leanClient(t, server.endpoint).send(calls(server.endpoint)[1] as never, { abortSignal: caller.signal });
  while (server.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  caller.abort();
  await t.throwsAsync(sent);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(server.received.length, 1);
});

test('with no endpoint given, a queue URL on another host is called there, as the SDK does', async (t) => {
  const server = await recordingServer(t, sqsAnswer);
  const sdk = new SQSClient({ region: 'eu-west-1', credentials: LOCAL_CREDENTIALS });
  t.teardown(() => sdk.destroy());
  const command = calls(server.endpoint)[1];
  const outputs = [await leanClient(t, undefined, 'eu-west-1').send(command as never), await sdk.send(command as never)];
  t.deepEqual(withoutMetadata(outputs[0]), withoutMetadata(outputs[1]));
  t.is(server.received.length, 2, 'both called the host of the queue URL, not sqs.eu-west-1.amazonaws.com');
});

test('message attributes read, or sent as bytes, go through the SDK, which converts them (base64)', async (t) => {
  const withAttribute = { ...messages[0]!, MessageAttributes: { raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]).toString('base64') } } };
  const server = await recordingServer(t, (request) =>
    request.headers['x-amz-target'] === 'AmazonSQS.ReceiveMessage' ? { status: 200, body: { Messages: [withAttribute] } } : sqsAnswer(request),
  );
  const receive = new ReceiveMessageCommand({ QueueUrl: QueueUrl(server.endpoint), MessageAttributeNames: ['All'] });
  const send = new SendMessageBatchCommand({
    QueueUrl: QueueUrl(server.endpoint),
    Entries: [{ Id: 'm-1', MessageBody: 'body', MessageAttributes: { raw: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2]) } } }],
  });
  const lean = leanClient(t, server.endpoint);
  const { Messages = [] } = (await lean.send(receive as never)) as { Messages?: Array<{ MessageAttributes?: Record<string, { BinaryValue?: unknown }> }> };
  t.deepEqual(Messages[0]?.MessageAttributes?.raw?.BinaryValue, new Uint8Array([0, 1, 2]));
  await lean.send(send as never);
  t.is(JSON.parse(server.received[1]!.body).Entries[0].MessageAttributes.raw.BinaryValue, 'AAEC');
});

/** What an error is, as callers see it: its class, name, codes, fault and status. */
function errorView(e: unknown) {
  const { name, message, Code, Type, $fault, $metadata } = e as {
    name: string;
    message: string;
    Code?: string;
    Type?: string;
    $fault: string;
    $metadata: { httpStatusCode: number; requestId?: string };
  };
  const modeled = Object.getPrototypeOf(e)?.constructor?.name;
  return { modeled, name, message, Code, Type, $fault, status: $metadata?.httpStatusCode, requestId: typeof $metadata?.requestId };
}

/** Error answers SQS gives (and a proxy's page), with and without the query-compatible header. */
const ERROR_ANSWERS: Answer[] = [
  {
    status: 400,
    headers: { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' },
    body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
  },
  {
    status: 403,
    headers: { 'x-amzn-query-error': 'SignatureDoesNotMatch;Sender' },
    body: { __type: 'com.amazon.coral.service#InvalidSignatureException', message: 'The request signature we calculated does not match.' },
  },
  {
    status: 403,
    headers: { 'x-amzn-query-error': 'AccessDenied;Sender' },
    body: { __type: 'com.amazon.coral.service#AccessDeniedException', message: 'User is not authorized.' },
  },
  {
    status: 400,
    headers: { 'x-amzn-query-error': 'InvalidParameterValue;Sender' },
    body: { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'no' },
  },
  { status: 400, headers: { 'x-amzn-errortype': 'ReceiptHandleIsInvalid:http://internal.amazon.com/' }, body: { message: 'bad handle' } },
  { status: 400, body: { __type: 'com.amazonaws.sqs#OverLimit', Message: 'too many' } },
  { status: 400, body: { code: 'InvalidAddress', __type: 'other', message: 'where' } },
  { status: 502, body: null, raw: '<html>Bad Gateway</html>' },
];

test('differential: each error answer becomes the same error on the lean path and through the SDK (the switch off), requests and retries alike', async (t) => {
  for (const failure of ERROR_ANSWERS) {
    const server = await recordingServer(t, () => failure);
    const command = calls(server.endpoint)[1];
    const leanError = await t.throwsAsync(leanClient(t, server.endpoint).send(command as never));
    const leanRequests = server.received.length;
    const sdkError = await t.throwsAsync(leanClient(t, server.endpoint, 'us-east-1', true, { leanCalls: false }).send(command as never));
    const label = JSON.stringify(failure.headers ?? failure.body).slice(0, 80);
    t.deepEqual(errorView(leanError), errorView(sdkError), label);
    t.is(leanRequests, server.received.length - leanRequests, `${label}: as many attempts on both paths`);
  }
});

test("differential: with the query error header the error is named by its code (the SDK's query-compatible mode), not by __type", async (t) => {
  const server = await recordingServer(t, () => ERROR_ANSWERS[1]!);
  const error = await t.throwsAsync(leanClient(t, server.endpoint).send(calls(server.endpoint)[1] as never));
  t.like(errorView(error), { name: 'SignatureDoesNotMatch', Code: 'SignatureDoesNotMatch', Type: 'Sender', $fault: 'client', status: 403 });
  const missing = await recordingServer(t, () => ERROR_ANSWERS[0]!);
  const notThere = await t.throwsAsync(leanClient(t, missing.endpoint).send(calls(missing.endpoint)[0] as never));
  t.like(errorView(notThere), { modeled: 'QueueDoesNotExist', name: 'QueueDoesNotExist', Code: 'AWS.SimpleQueueService.NonExistentQueue' });
});

/** A retry strategy that waits nothing itself and asks for its delay through each token; it records the scopes it is asked for. */
function tokenDelayStrategy(delayMs: number, maxAttempts = 3) {
  const scopes: string[] = [];
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => (count === 0 ? 0 : delayMs) });
  const strategy: RetryStrategyV2 = {
    async acquireInitialRetryToken(scope: string) {
      scopes.push(scope);
      return token(0);
    },
    async refreshRetryTokenForRetry(previous, info) {
      if (previous.getRetryCount() + 1 >= maxAttempts || info.errorType === 'CLIENT_ERROR') throw new Error('no retry');
      return token(previous.getRetryCount() + 1);
    },
    recordSuccess() {},
  };
  return { strategy, scopes };
}

test("differential: the retry token's delay is waited before the next attempt, on both paths", async (t) => {
  for (const leanCalls of [true, false]) {
    const server = await recordingServer(t, (request, n) =>
      n === 1 ? { status: 500, body: { __type: 'InternalError', message: 'boom' } } : sqsAnswer(request),
    );
    const { strategy } = tokenDelayStrategy(400);
    const output = await leanClient(t, server.endpoint, 'us-east-1', true, { leanCalls, retryStrategy: strategy }).send(calls(server.endpoint)[1] as never);
    t.is((output as { $metadata: { attempts: number } }).$metadata.attempts, 2);
    const gap = server.received[1]!.at - server.received[0]!.at;
    t.true(gap >= 390, `${leanCalls ? 'lean' : 'SDK'}: ${gap} ms between attempts, the token asked 400`);
  }
});

test('differential: ReceiveMessage asks its retry token in the long-poll scope, the batch calls in the default one, as the SDK does', async (t) => {
  const server = await recordingServer(t, sqsAnswer);
  const seen: Record<string, string[]> = {};
  for (const leanCalls of [true, false]) {
    const { strategy, scopes } = tokenDelayStrategy(0);
    const client = leanClient(t, server.endpoint, 'us-east-1', true, { leanCalls, retryStrategy: strategy });
    for (const command of calls(server.endpoint)) await client.send(command as never);
    seen[leanCalls ? 'lean' : 'sdk'] = scopes;
  }
  t.deepEqual(seen.lean, seen.sdk);
  t.deepEqual(seen.lean, [':longpoll', '', '', '']);
});

test('the same retry strategy serves both paths: the lean calls spend the retry budget the SDK client sees', async (t) => {
  const server = await recordingServer(t, () => ({ status: 500, body: { __type: 'InternalError', message: 'boom' } }));
  const { StandardRetryStrategy } = await import('@smithy/util-retry');
  const strategy = new StandardRetryStrategy(3);
  const before = strategy.getCapacity();
  await t.throwsAsync(leanClient(t, server.endpoint, 'us-east-1', true, { retryStrategy: strategy }).send(calls(server.endpoint)[1] as never));
  t.true(strategy.getCapacity() < before, `capacity ${before} -> ${strategy.getCapacity()}`);
});

test('an answer past the cap fails the call on both paths and closes its socket: announced, or streamed without end', async (t) => {
  const chunk = Buffer.alloc(1_048_576, 'a');
  let closed = 0;
  let sentBytes = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const announced = req.url!.includes('announced');
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', ...(announced ? { 'content-length': String(50_000_000) } : {}) });
      res.write('{"Messages":[{"Body":"');
      // An answer that never ends: written as fast as it is read, until the reader hangs up.
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sentBytes += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.socket!.once('close', () => (closed += 1));
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  for (const leanCalls of [true, false]) {
    for (const path of ['/announced', '/endless']) {
      const client = leanClient(t, `${endpoint}${path}`, 'us-east-1', true, { leanCalls });
      const receive = new ReceiveMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, MaxNumberOfMessages: 10 });
      const before = closed;
      sentBytes = 0;
      const error = await t.throwsAsync(client.send(receive as never));
      t.is(error.name, 'AnswerTooLarge', `${leanCalls ? 'lean' : 'SDK'} ${path}: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      t.is(closed, before + 1, 'the socket was closed, not kept for the next call');
      t.true(sentBytes < 64 * 1_048_576, `the server got to write ${sentBytes} bytes before the reader hung up`);
    }
  }
});
