/**
 * The four calls the processor makes for every batch of messages (ReceiveMessage,
 * DeleteMessageBatch, ChangeMessageVisibilityBatch, SendMessageBatch), sent as the SQS JSON
 * requests they are, without the SDK's middleware stack: that stack (schema serde, endpoint
 * rules, user agent, retry tokens, a dozen awaits) cost more CPU per call than the request itself.
 * The same client still does everything else, and these calls keep what the SDK did for them:
 * - the endpoint the SDK resolves (configured, from the environment, or the region's), asked once per queue;
 * - SigV4 by the client's own signer, so its credential provider (which renews credentials) and region;
 * - the MD5 checks of bodies received and sent;
 * - errors as the SDK makes them (`name`, `Code`, `$fault`, `$metadata`), so callers classify them alike;
 * - retries of throttling, server errors and dropped connections, as the SDK's standard mode
 *   (3 attempts, exponential backoff with full jitter), and the clock offset learnt from a skew error;
 * - the caller's abort signal, which ends the request and closes its socket.
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
import { HttpRequest } from '@smithy/core/protocols';
import type { SignatureV4 } from '@smithy/signature-v4';
import { isClockSkew, isRetryable, retryDelayMs, type SqsError, sqsError } from './sqs-errors.ts';

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
  /** Attempts per call, the first included (the SDK's standard mode: 3). */
  readonly maxAttempts?: number;
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Sign = (request: HttpRequest, options: { signingDate: Date }) => Promise<{ headers: Record<string, string> }>;

/** Whether a command is one this module sends. */
export function isLeanCall(command: unknown): boolean {
  return TARGETS.has((command as { constructor?: unknown } | undefined)?.constructor);
}

/**
 * The client, with the processor's four per-message calls sent directly. Apply after
 * cutPerCallCosts (it reads the signer and the user agent that sets once).
 */
export function withLeanCalls(client: SQSClient, options: LeanCallOptions): SQSClient {
  const { config } = client;
  const maxAttempts = options.maxAttempts ?? 3;
  const endpoints = new Map<string, Promise<URL>>();
  let clockOffsetMs = 0;
  const userAgent = config.defaultUserAgentProvider().then((sections) => sections.map(userAgentSection).join(' '));
  const signer = config.signer() as Promise<SignatureV4>;

  // Whether an endpoint was given to the client; one the SDK finds in the environment does not count, as for its QueueUrl rule.
  const endpointGiven = (config as { isCustomEndpoint?: boolean }).isCustomEndpoint === true;

  /** Where calls about this queue go: what the SDK's endpoint middleware and its QueueUrl rule would choose. */
  function endpointOf(queueUrl: string): Promise<URL> {
    let endpoint = endpoints.get(queueUrl);
    if (!endpoint) {
      endpoint = (async () => {
        const resolved = await getEndpointFromInstructions({ QueueUrl: queueUrl }, ReceiveMessageCommand, config as never);
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
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': target,
        'x-amzn-query-mode': 'true',
        'content-length': String(Buffer.byteLength(payload)),
        'user-agent': await userAgent,
        host: url.host,
      },
      body: payload,
    });
    const signed = await ((await signer) as unknown as { sign: Sign }).sign(request, { signingDate: new Date(Date.now() + clockOffsetMs) });
    signal?.throwIfAborted();
    return exchange(url, signed.headers, payload, options, signal);
  }

  async function call(command: { input: Record<string, unknown> }, target: string, signal: AbortSignal | undefined): Promise<unknown> {
    const { input } = command;
    const url = await endpointOf(input.QueueUrl as string);
    const payload = JSON.stringify(input);
    for (let attempts = 1; ; attempts++) {
      let error: Error;
      try {
        const answer = await attempt(target, url, payload, signal);
        if (answer.status >= 200 && answer.status < 300) return outputOf(target, input, answer, attempts);
        const answered = sqsError(answer, attempts);
        clockOffsetMs = learntOffset(answered, answer, clockOffsetMs);
        error = answered;
      } catch (thrown) {
        error = thrown as Error;
      }
      if (signal?.aborted || attempts >= maxAttempts || !isRetryable(error)) throw error;
      await sleep(retryDelayMs(attempts, error), signal);
    }
  }

  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const leanSend = (command: unknown, sendOptions?: unknown) => {
    const target = TARGETS.get((command as { constructor?: unknown } | undefined)?.constructor);
    if (target === undefined || typeof sendOptions === 'function') return send(command, sendOptions);
    return call(command as { input: Record<string, unknown> }, target, (sendOptions as { abortSignal?: AbortSignal } | undefined)?.abortSignal);
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return leanSend;
      return Reflect.get(target, property, receiver);
    },
  });
}

/** One request and its whole answer; aborted by the signal, and by the connect and socket timeouts. */
function exchange(url: URL, headers: Record<string, string>, payload: string, options: LeanCallOptions, signal: AbortSignal | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const request = (secure ? https : http).request({
      agent: secure ? options.httpsAgent : options.httpAgent,
      method: 'POST',
      hostname: url.hostname,
      port: url.port || undefined,
      path: url.pathname,
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

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

/** The SDK's output: the JSON answer and its metadata, once the MD5 of every body is checked. */
function outputOf(target: string, input: Record<string, unknown>, answer: Answer, attempts: number): unknown {
  let output: Record<string, unknown>;
  try {
    output = answer.body === '' ? {} : JSON.parse(answer.body);
  } catch {
    throw sqsError({ ...answer, status: 0 }, attempts, `${target} answered HTTP ${answer.status} with a body that is not JSON`);
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

/** The SDK's clock correction: after a skew error, sign with the server's clock from its Date header. */
function learntOffset(error: SqsError, answer: Answer, current: number): number {
  const date = answer.headers.date;
  if (!date || !isClockSkew(error)) return current;
  const server = Date.parse(date);
  if (Number.isNaN(server) || Math.abs(server - (Date.now() + current)) < 300_000) return current;
  return server - Date.now();
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
