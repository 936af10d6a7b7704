/**
 * The four calls the processor makes for every batch of messages (ReceiveMessage,
 * DeleteMessageBatch, ChangeMessageVisibilityBatch, SendMessageBatch), sent as the SQS JSON
 * requests they are, without the SDK's middleware stack: that stack (schema serde, endpoint
 * rules, user agent, a dozen awaits) cost more CPU per call than the request itself. The SDK
 * client still makes every other call. These calls are built from the SDK's own parts:
 * - signed by its SigV4 signer (@smithy/signature-v4) with the client's credential provider
 *   (which renews credentials) and region, and its clock correction;
 * - retried by the retry strategy the client was given (the same instance: one retry budget),
 *   told of each failure as the SDK's retry middleware tells it, with its long-poll scope for
 *   ReceiveMessage and the delay its tokens ask for;
 * - errors made as the SDK makes them in query-compatible mode (./errors.ts);
 * - the MD5 checks of bodies received and sent;
 * - the endpoint given to the client, else the queue URL's host, as the SDK's QueueUrl rule does;
 * - the caller's abort signal, which ends the request and closes its socket, and stops retries.
 * An answer larger than any SQS can give fails the call and closes the socket; nothing beyond
 * the cap is kept. A command that would need the SDK's conversions (binary message attributes)
 * is sent through the SDK.
 */
import { createHmac, createSecretKey, type Hmac, hash, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RetryStrategyV2, RetryToken } from '@smithy/types';
import { AnswerTooLarge, MAX_ANSWER_BYTES } from './answer-cap.ts';
import { type Answer, clockOffsetAfter, retryErrorInfo, skewCorrected, sqsError, unreadableAnswer } from './errors.ts';

/** The commands sent here, by the X-Amz-Target of their request. */
const TARGETS = new Map<unknown, string>([
  [ReceiveMessageCommand, 'AmazonSQS.ReceiveMessage'],
  [DeleteMessageBatchCommand, 'AmazonSQS.DeleteMessageBatch'],
  [ChangeMessageVisibilityBatchCommand, 'AmazonSQS.ChangeMessageVisibilityBatch'],
  [SendMessageBatchCommand, 'AmazonSQS.SendMessageBatch'],
]);

const SDK_VERSION = (createRequire(import.meta.url)('@aws-sdk/client-sqs/package.json') as { version: string }).version;
/** Who calls: the SDK these calls are built from, and that they skip its middleware. */
const USER_AGENT = `aws-sdk-js/${SDK_VERSION} api/sqs#${SDK_VERSION} lang/js md/nodejs#${process.versions.node} lib/traffic-lean-calls`;

export interface LeanCallOptions {
  /** The agents the client's own request handler uses, so both share one pool of sockets. */
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  readonly connectTimeoutMs: number;
  /** Socket inactivity: a backstop behind each call's deadline. */
  readonly socketTimeoutMs: number;
  /** The endpoint the client was given; without one, each queue URL's own host (what the SDK calls too). */
  readonly endpoint: string | undefined;
  /** The retry strategy the client was given: the same instance, so both paths share its retry budget. */
  readonly retryStrategy: RetryStrategyV2;
  /** Largest answer read; beyond it the call fails. */
  readonly maxAnswerBytes?: number;
}

/**
 * SHA-256 for the signer, on Node's crypto (the SDK's own hash is an internal of its config): an
 * HMAC when given a secret, else a one-shot hash of what was given (cheaper than a hash object).
 * The signer hands it the same secrets call after call (the secret key, and the day's signing key,
 * which it caches): their key objects are kept, as making one costs more than the HMAC itself.
 */
export class Sha256 {
  readonly #hmac: Hmac | undefined;
  #data: string | Uint8Array | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret !== undefined) this.#hmac = createHmac('sha256', keyOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#hmac) this.#hmac.update(bytes(data));
    else this.#data = this.#data === undefined ? bytes(data) : Buffer.concat([Buffer.from(this.#data), Buffer.from(bytes(data))]);
  }
  async digest(): Promise<Uint8Array> {
    return this.#hmac ? this.#hmac.digest() : hash('sha256', this.#data ?? '', 'buffer');
  }
}

/** Key objects of the signing keys the signer caches (the same array each call), and of the few secret keys in use. */
const signingKeys = new WeakMap<object, KeyObject>();
const secretKeys = new Map<string, KeyObject>();
/** Secret keys kept: the credentials in use and the ones they were renewed from. */
const SECRET_KEYS_KEPT = 4;

function keyOf(secret: string | ArrayBuffer | ArrayBufferView): KeyObject {
  if (typeof secret === 'string') {
    let key = secretKeys.get(secret);
    if (!key) {
      key = createSecretKey(Buffer.from(secret));
      secretKeys.set(secret, key);
      if (secretKeys.size > SECRET_KEYS_KEPT) secretKeys.delete(secretKeys.keys().next().value!);
    }
    return key;
  }
  let key = signingKeys.get(secret);
  if (!key) {
    key = createSecretKey(bytes(secret) as Uint8Array);
    signingKeys.set(secret, key);
  }
  return key;
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** The X-Amz-Target of a command sent here, or undefined for one the SDK sends. */
function targetOf(command: unknown): string | undefined {
  const target = TARGETS.get((command as { constructor?: unknown } | undefined)?.constructor);
  if (target === undefined) return undefined;
  const input = (command as { input: { MessageAttributeNames?: unknown[]; Entries?: Array<{ MessageAttributes?: Record<string, object> }> } }).input;
  // Message attributes read, or sent as bytes: the SDK converts them (base64).
  if (input.MessageAttributeNames?.length) return undefined;
  if (target === 'AmazonSQS.SendMessageBatch' && input.Entries?.some((e) => hasBinary(e.MessageAttributes))) return undefined;
  return target;
}

function hasBinary(attributes: Record<string, object> | undefined): boolean {
  for (const key in attributes) if ('BinaryValue' in attributes[key]! || 'BinaryListValues' in attributes[key]!) return true;
  return false;
}

/**
 * Where calls about a queue go: the endpoint given to the client (with its path), else the queue
 * URL's origin. The SDK does the same: with no endpoint given, its QueueUrl rule sends a call to
 * the queue URL's host whenever it differs from the region's endpoint.
 */
export function endpointFor(queueUrl: string, given: string | undefined): URL {
  const url = new URL(given ?? new URL(queueUrl).origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`SQS endpoint ${url.origin} is not http(s)`);
  return url;
}

/** The client, with the processor's four per-message calls sent directly. */
export function withLeanCalls(client: SQSClient, options: LeanCallOptions): SQSClient {
  const { config } = client;
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  const endpoints = new Map<string, URL>();
  let clockOffsetMs = 0;
  const signer = new SignatureV4({ credentials: config.credentials, region: config.region, service: 'sqs', sha256: Sha256, uriEscapePath: true });
  const retryStrategy = options.retryStrategy;

  function endpointOf(queueUrl: string): URL {
    let endpoint = endpoints.get(queueUrl);
    if (!endpoint) {
      endpoint = endpointFor(queueUrl, options.endpoint);
      endpoints.set(queueUrl, endpoint);
    }
    return endpoint;
  }

  async function attempt(target: string, url: URL, payload: string, signal: AbortSignal | undefined): Promise<Answer> {
    const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    const request = {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      path,
      query: {},
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': target,
        'x-amzn-query-mode': 'true',
        'content-length': String(Buffer.byteLength(payload)),
        // The header the signer would add; given, it is used as the body's hash (and the body not hashed twice).
        'x-amz-content-sha256': hash('sha256', payload, 'hex'),
        host: url.host,
      } as Record<string, string>,
      body: payload,
    };
    const signed = await signer.sign(request, { signingDate: new Date(Date.now() + clockOffsetMs) });
    // Not signed: a proxy may change it (the SDK's signer leaves it out too).
    signed.headers['user-agent'] = USER_AGENT;
    signal?.throwIfAborted();
    const sentAt = Date.now();
    const answer = await exchange(url, path, signed.headers, payload, { ...options, maxAnswerBytes }, signal);
    const previous = clockOffsetMs;
    clockOffsetMs = clockOffsetAfter(answer, clockOffsetMs, sentAt);
    if (answer.status >= 200 && answer.status < 300) return answer;
    const error = sqsError(answer, 1);
    if (skewCorrected(previous, clockOffsetMs)) (error as unknown as { $metadata: { clockSkewCorrected?: boolean } }).$metadata.clockSkewCorrected = true;
    throw error;
  }

  /** The attempts of one call, as the SDK's retry middleware makes them with the client's retry strategy. */
  async function call(input: Record<string, unknown>, target: string, signal: AbortSignal | undefined): Promise<unknown> {
    const url = endpointOf(input.QueueUrl as string);
    const payload = JSON.stringify(input);
    // The SDK's scope: a long poll may wait out an empty retry budget rather than fail at once.
    const scope = target === 'AmazonSQS.ReceiveMessage' ? ':longpoll' : '';
    let token: RetryToken = await untilAborted(retryStrategy.acquireInitialRetryToken(scope), signal);
    let totalRetryDelay = 0;
    for (let attempts = 1; ; attempts = token.getRetryCount() + 1) {
      let answer: Answer;
      try {
        answer = await attempt(target, url, payload, signal);
      } catch (caught) {
        const error = caught instanceof Error ? caught : new Error(String(caught));
        const withMetadata = error as { $metadata?: Record<string, unknown> };
        withMetadata.$metadata ??= {};
        const metadata = withMetadata.$metadata;
        metadata.attempts = attempts;
        metadata.totalRetryDelay = totalRetryDelay;
        if (signal?.aborted) throw error;
        try {
          token = await untilAborted(retryStrategy.refreshRetryTokenForRetry(token, retryErrorInfo(error) as never), signal);
        } catch (refused) {
          // No retry left (or the wait was aborted): the attempt's own error tells what failed.
          if (signal?.aborted && refused === signal.reason) throw refused;
          throw error;
        }
        // A strategy may ask for its delay through the token rather than wait itself; the SDK honours both.
        const delay = token.getRetryDelay();
        totalRetryDelay += ((token as { $retryLog?: { acquisitionDelay?: number } }).$retryLog?.acquisitionDelay ?? 0) + delay;
        if (delay > 0) await untilAborted(new Promise((resolve) => setTimeout(resolve, delay)), signal);
        continue;
      }
      retryStrategy.recordSuccess(token);
      return outputOf(target, input, answer, attempts, totalRetryDelay);
    }
  }

  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const leanSend = (command: unknown, sendOptions?: unknown) => {
    const target = targetOf(command);
    if (target === undefined || typeof sendOptions === 'function') return send(command, sendOptions);
    const { input } = command as { input: Record<string, unknown> };
    return call(input, target, (sendOptions as { abortSignal?: AbortSignal } | undefined)?.abortSignal);
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return leanSend;
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * One request and its whole answer, up to `maxAnswerBytes`; aborted by the signal, and by the
 * connect and socket timeouts. Whatever fails while the answer is read rejects the call.
 */
function exchange(
  url: URL,
  path: string,
  headers: Record<string, string>,
  payload: string,
  options: LeanCallOptions & { maxAnswerBytes: number },
  signal: AbortSignal | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const request = (secure ? https : http).request({
      agent: secure ? options.httpsAgent : options.httpAgent,
      method: 'POST',
      // An IPv6 literal without its brackets; the host header keeps them.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path,
      headers,
      signal,
    });
    const fail = (error: unknown) => {
      request.destroy();
      reject(error);
    };
    request.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(
        () => request.destroy(timeoutError(`no connection to ${url.host} within ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(timer));
      request.once('close', () => clearTimeout(timer));
    });
    request.setTimeout(options.socketTimeoutMs, () => request.destroy(timeoutError(`no data from ${url.host} for ${options.socketTimeoutMs} ms`)));
    request.once('error', reject);
    request.once('response', (response) => {
      try {
        const declared = Number(response.headers['content-length']);
        if (declared > options.maxAnswerBytes) throw new AnswerTooLarge(declared, options.maxAnswerBytes, url.host);
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          // Past the cap: the socket goes, and nothing more is kept.
          if (bytes > options.maxAnswerBytes) fail(new AnswerTooLarge(bytes, options.maxAnswerBytes, url.host));
          else chunks.push(chunk);
        });
        response.once('error', fail);
        response.once('aborted', () => fail(new Error(`the answer from ${url.host} was cut off`)));
        response.once('end', () => {
          try {
            const body = chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString();
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
          } catch (error) {
            fail(error);
          }
        });
      } catch (error) {
        fail(error);
      }
    });
    request.end(payload);
  });
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

/** The SDK's output: the JSON answer and its metadata, once the MD5 of every body is checked. */
function outputOf(target: string, input: Record<string, unknown>, answer: Answer, attempts: number, totalRetryDelay: number): unknown {
  let output: Record<string, unknown>;
  try {
    output = answer.body === '' ? {} : JSON.parse(answer.body);
  } catch (error) {
    throw unreadableAnswer(error as Error, answer, attempts);
  }
  if (output === null || typeof output !== 'object' || Array.isArray(output)) {
    throw Object.assign(new Error(`${target} answered HTTP ${answer.status} with JSON that is not an object`), {
      $metadata: { httpStatusCode: answer.status, attempts },
    });
  }
  if (target === 'AmazonSQS.ReceiveMessage') checkReceived(output.Messages as Message[] | undefined);
  else if (target === 'AmazonSQS.SendMessageBatch') checkSent(input.Entries as SentEntry[], output.Successful as SentResult[] | undefined);
  output.$metadata = { httpStatusCode: answer.status, requestId: answer.headers['x-amzn-requestid'], attempts, totalRetryDelay };
  return output;
}

interface Message {
  readonly MessageId?: string;
  readonly Body?: string;
  readonly MD5OfBody?: string;
}
interface SentEntry {
  readonly Id: string;
  readonly MessageBody?: string;
}
interface SentResult {
  readonly Id?: string;
  readonly MessageId?: string;
  readonly MD5OfMessageBody?: string;
}

const md5 = (text: string) => hash('md5', text, 'hex');

/** As the SDK: a body that does not match its MD5 fails the whole receive (the messages come back after their lease). */
function checkReceived(messages: readonly Message[] | undefined): void {
  if (messages !== undefined && !Array.isArray(messages)) throw new Error('ReceiveMessage answered Messages that are not a list');
  const wrong = (messages ?? []).filter((m) => md5(String(m?.Body ?? '')) !== m?.MD5OfBody).map((m) => m?.MessageId);
  if (wrong.length > 0) throw new Error(`Invalid MD5 checksum on messages: ${wrong.join(', ')}`);
}

function checkSent(entries: readonly SentEntry[], successful: readonly SentResult[] | undefined): void {
  if (successful !== undefined && !Array.isArray(successful)) throw new Error('SendMessageBatch answered Successful that is not a list');
  const bodies = new Map(entries.map((e) => [e.Id, e.MessageBody ?? '']));
  const wrong = (successful ?? []).filter((s) => s?.Id !== undefined && bodies.has(s.Id) && md5(bodies.get(s.Id)!) !== s.MD5OfMessageBody);
  if (wrong.length > 0) throw new Error(`Invalid MD5 checksum on messages: ${wrong.map((s) => s.MessageId).join(', ')}`);
}

/** The promise, or the signal's reason as soon as it aborts (the promise goes on, unheeded). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', stop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(error);
      },
    );
  });
}
