/**
 * The four calls the processor makes for every batch of messages (ReceiveMessage,
 * DeleteMessageBatch, ChangeMessageVisibilityBatch, SendMessageBatch), sent as the SQS JSON
 * requests they are, without the SDK's middleware stack: that stack (schema serde, endpoint
 * rules, user agent, retry tokens, a dozen awaits) cost more CPU per call than the request itself.
 * The same client still does everything else, and these calls keep what the SDK did for them:
 * - the endpoint the SDK resolves (configured, from the environment, or the region's), asked once per queue;
 * - SigV4 (./sigv4.ts, the SDK signer's signature) with the client's credential provider (which renews
 *   credentials) and region;
 * - the MD5 checks of bodies received and sent;
 * - errors as the SDK makes them (`name`, `Code`, `$fault`, `$metadata`), so callers classify them alike;
 * - retries by the client's own retry strategy (its mode, attempts, backoff and retry budget), told
 *   of each failure as the SDK's retry middleware tells it, and the SDK's clock correction;
 * - the caller's abort signal, which ends the request and closes its socket, and stops retries.
 * A command that would need the SDK's conversions (binary message attributes, as bytes or base64)
 * is sent through the SDK.
 */
import { hash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { type Credentials, signPost } from './sigv4.ts';
import { type Answer, clockOffsetAfter, retryErrorInfo, SqsError, skewCorrected, sqsError } from './sqs-errors.ts';

/** The commands sent here, by the X-Amz-Target of their request. */
const TARGETS = new Map<unknown, string>([
  [ReceiveMessageCommand, 'AmazonSQS.ReceiveMessage'],
  [DeleteMessageBatchCommand, 'AmazonSQS.DeleteMessageBatch'],
  [ChangeMessageVisibilityBatchCommand, 'AmazonSQS.ChangeMessageVisibilityBatch'],
  [SendMessageBatchCommand, 'AmazonSQS.SendMessageBatch'],
]);

export interface LeanCallOptions {
  /** The agents the client's own request handler uses, so both share one pool of sockets. */
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  readonly connectTimeoutMs: number;
  /** Socket inactivity: a backstop behind each call's deadline. */
  readonly socketTimeoutMs: number;
}

/** A retry strategy of the SDK (version 2: tokens), as `config.retryStrategy()` gives it. */
interface RetryToken {
  getRetryCount(): number;
}
interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, info: ReturnType<typeof retryErrorInfo>): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
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

/** The client, with the processor's four per-message calls sent directly. */
export function withLeanCalls(client: SQSClient, options: LeanCallOptions): SQSClient {
  const { config } = client;
  const endpoints = new Map<string, Promise<URL>>();
  let clockOffsetMs = 0;
  const userAgent = config.defaultUserAgentProvider().then((sections) => sections.map(userAgentSection).join(' '));
  // The client's credential provider (which renews credentials before they expire) and region, as its signer uses them.
  const credentials = config.credentials as () => Promise<Credentials>;
  const region = config.region();
  const retryStrategy = (config.retryStrategy as () => Promise<RetryStrategy>)();
  // Awaited by each call, which then fails with the reason; not a crash before the first call.
  for (const promise of [userAgent, region, retryStrategy]) promise.catch(() => {});

  // Whether an endpoint was given to the client; one the SDK finds in the environment does not count, as for its QueueUrl rule.
  const endpointGiven = (config as { isCustomEndpoint?: boolean }).isCustomEndpoint === true;

  /** Where calls about this queue go: what the SDK's endpoint middleware and its QueueUrl rule would choose. */
  function endpointOf(queueUrl: string): Promise<URL> {
    let endpoint = endpoints.get(queueUrl);
    if (!endpoint) {
      endpoint = (async () => {
        // A copy, as the SDK's endpoint middleware passes: resolving may set the endpoint found in the environment on it.
        const resolved = await getEndpointFromInstructions({ QueueUrl: queueUrl }, ReceiveMessageCommand, { ...config } as never);
        // The SDK's rule for SQS: with no endpoint given, a queue URL on another host is called there.
        if (!endpointGiven && config.useQueueUrlAsEndpoint !== false) {
          const origin = new URL(queueUrl).origin;
          if (origin !== resolved.url.origin) return new URL(origin);
        }
        return resolved.url;
      })();
      endpoint.catch(() => endpoints.delete(queueUrl));
      endpoints.set(queueUrl, endpoint);
    }
    return endpoint;
  }

  async function attempt(target: string, url: URL, payload: string, signal: AbortSignal | undefined): Promise<Answer> {
    const path = pathOf(url);
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      'x-amzn-query-mode': 'true',
      'content-length': String(Buffer.byteLength(payload)),
      'user-agent': await userAgent,
      host: url.host,
    };
    const signed = signPost({ path, headers, body: payload }, await credentials(), await region, 'sqs', new Date(Date.now() + clockOffsetMs));
    Object.assign(headers, signed);
    signal?.throwIfAborted();
    const sentAt = Date.now();
    const answer = await exchange(url, path, headers, payload, options, signal);
    const previous = clockOffsetMs;
    clockOffsetMs = clockOffsetAfter(answer, clockOffsetMs, sentAt);
    if (answer.status >= 200 && answer.status < 300) return answer;
    const error = sqsError(answer, 1);
    if (skewCorrected(previous, clockOffsetMs)) error.$metadata.clockSkewCorrected = true;
    throw error;
  }

  /** The attempts of one call, as the SDK's retry middleware makes them with the client's retry strategy. */
  async function call(input: Record<string, unknown>, target: string, signal: AbortSignal | undefined): Promise<unknown> {
    const url = await endpointOf(input.QueueUrl as string);
    const payload = JSON.stringify(input);
    const strategy = await retryStrategy;
    let token = await strategy.acquireInitialRetryToken('');
    for (let attempts = 1; ; attempts = token.getRetryCount() + 1) {
      let answer: Answer;
      try {
        answer = await attempt(target, url, payload, signal);
      } catch (error) {
        if (error instanceof SqsError) error.$metadata.attempts = attempts;
        if (signal?.aborted) throw error;
        try {
          token = await untilAborted(strategy.refreshRetryTokenForRetry(token, retryErrorInfo(error as Error)), signal);
        } catch (refused) {
          // No retry left (or the wait was aborted): the attempt's own error tells what failed.
          if (signal?.aborted && refused === signal.reason) throw refused;
          throw error;
        }
        continue;
      }
      strategy.recordSuccess(token);
      return outputOf(target, input, answer, attempts);
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

/** One request and its whole answer; aborted by the signal, and by the connect and socket timeouts. */
function exchange(
  url: URL,
  path: string,
  headers: Record<string, string>,
  payload: string,
  options: LeanCallOptions,
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
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => {
        const body = chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    request.end(payload);
  });
}

/** A user-agent section as the SDK writes it: `prefix/name#version`, odd characters as '-', an api name in lower case. */
export function userAgentSection([fullName, version]: readonly [string, string?]): string {
  const name = fullName.replace(/[^/!$%&'*+\-.^_`|~\w]/g, '-');
  const slash = name.indexOf('/');
  const prefix = slash < 0 ? '' : name.slice(0, slash);
  const rest = name.slice(slash + 1);
  const parts = [prefix, prefix === 'api' ? rest.toLowerCase() : rest, version?.replace(/[^!$%&'*+\-.^_`|~\w#]/g, '-')].filter(Boolean);
  return parts.length === 1 ? parts[0]! : `${parts[0]}/${parts[1]}${parts[2] ? `#${parts[2]}` : ''}`;
}

/** The request path: the endpoint's, ending in a slash as the SDK's requests do. */
function pathOf(url: URL): string {
  return url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

/** The SDK's output: the JSON answer and its metadata, once the MD5 of every body is checked. */
function outputOf(target: string, input: Record<string, unknown>, answer: Answer, attempts: number): unknown {
  let output: Record<string, unknown>;
  try {
    output = answer.body === '' ? {} : JSON.parse(answer.body);
  } catch (error) {
    throw Object.assign(new Error(`${target} answered HTTP ${answer.status} with a body that is not JSON`, { cause: error }), {
      $metadata: { httpStatusCode: answer.status, attempts },
    });
  }
  if (target === 'AmazonSQS.ReceiveMessage') checkReceived(output.Messages as Message[] | undefined);
  else if (target === 'AmazonSQS.SendMessageBatch') checkSent(input.Entries as SentEntry[], output.Successful as SentResult[] | undefined);
  output.$metadata = { httpStatusCode: answer.status, requestId: answer.headers['x-amzn-requestid'], attempts };
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
  const wrong = (messages ?? []).filter((m) => md5(m.Body ?? '') !== m.MD5OfBody).map((m) => m.MessageId);
  if (wrong.length > 0) throw new Error(`Invalid MD5 checksum on messages: ${wrong.join(', ')}`);
}

function checkSent(entries: readonly SentEntry[], successful: readonly SentResult[] | undefined): void {
  const bodies = new Map(entries.map((e) => [e.Id, e.MessageBody ?? '']));
  const wrong = (successful ?? []).filter((s) => s.Id !== undefined && bodies.has(s.Id) && md5(bodies.get(s.Id)!) !== s.MD5OfMessageBody);
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
