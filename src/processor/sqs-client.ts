/**
 * The SQS client with deadlines that hold whatever the endpoint does. The SDK has no timeout
 * by default: a connection that stops answering without closing (half-open, as behind a NAT
 * that lost its state) would hang a call for ever. Here every call gets its own deadline
 * (a long poll: its wait plus a margin); when it passes, the request is aborted, its socket
 * destroyed, and the next call opens a new connection.
 */
import { ReceiveMessageCommand, type SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SqsConnection } from '../platform/config.ts';
import { createSqsClient } from '../platform/sqs.ts';
import type { ProcessorConfig } from './config.ts';
import { Md5, Sha256 } from './sqs-hashes.ts';
import { cutPerCallCosts } from './sqs-per-call-costs.ts';

export interface SqsDeadlines {
  /** Deadline of every call but a long poll. */
  readonly callTimeoutMs: number;
  /** Time to open a TCP connection. */
  readonly connectTimeoutMs: number;
  /** A long poll may take its WaitTimeSeconds plus this. */
  readonly receiveMarginMs: number;
}

/** A call that got no answer within its deadline. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** The deadline of one call: a long poll gets its wait plus the margin. */
export function deadlineOf(command: unknown, deadlines: SqsDeadlines): number {
  if (command instanceof ReceiveMessageCommand) return (command.input.WaitTimeSeconds ?? 0) * 1000 + deadlines.receiveMarginMs;
  return deadlines.callTimeoutMs;
}

type Send = SQSClient['send'];

/**
 * Each call's abort signal, by its input object. The SDK caches the middleware chain per command
 * (`cacheMiddleware`) only for calls sent without options, so the signal cannot travel as
 * `abortSignal`: a middleware puts it on each attempt's HTTP request, where the handler reads it.
 */
const callSignals = new WeakMap<object, AbortSignal>();
const CALL_SIGNAL = Symbol('traffic.callSignal');
const TAG_MIDDLEWARE = 'trafficCallSignal';

/** The SDK's Node HTTP handler, aborting each request by the signal of the call it belongs to. */
export class CallSignalHttpHandler extends NodeHttpHandler {
  override handle(...[request, options = {}]: Parameters<NodeHttpHandler['handle']>) {
    const abortSignal = (request as unknown as Record<symbol, AbortSignal | undefined>)[CALL_SIGNAL];
    return super.handle(request, abortSignal ? { ...options, abortSignal } : options);
  }
}

/** Whether send options carry nothing but an abort signal (what the tag can carry instead). */
function onlySignal(options: object | undefined): boolean {
  for (const key in options) if (key !== 'abortSignal') return false;
  return true;
}

/** Rejects with the signal's reason once it aborts. */
function onAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/**
 * Wraps `client.send` so each call is aborted at its deadline (as well as by the caller's
 * signal) and fails with a DeadlineError naming the call and the endpoint.
 */
export function withDeadlines(client: SQSClient, deadlines: SqsDeadlines, endpoint = 'the SQS endpoint'): SQSClient {
  const send = client.send.bind(client) as (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
  // Only a client built with CallSignalHttpHandler can take signals from the tag; others get them as options.
  const tagged = client.config.requestHandler instanceof CallSignalHttpHandler;
  if (tagged && !client.middlewareStack.identify().some((name) => name.startsWith(TAG_MIDDLEWARE))) {
    client.middlewareStack.add(
      (next) => (args) => {
        const signal = callSignals.get(args.input as object);
        if (signal) (args.request as Record<symbol, unknown>)[CALL_SIGNAL] = signal;
        return next(args);
      },
      // Last before the handler: after the retry middleware, so every attempt's request is tagged.
      { step: 'finalizeRequest', priority: 'low', name: TAG_MIDDLEWARE },
    );
  }
  const timedSend = async (command: unknown, options?: unknown) => {
    if (typeof options === 'function') throw new TypeError('callback-style send is not supported');
    const callerSignal = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    const ms = deadlineOf(command, deadlines);
    // One controller per call, aborted by its deadline or by the caller's signal. Forwarding by a
    // listener, not AbortSignal.any: that one makes WeakRefs per call, which V8 keeps until the
    // event loop turn ends (and caps per turn), and costs a few µs a call.
    const call = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort();
    }, ms);
    const forward = () => call.abort(callerSignal?.reason);
    if (callerSignal?.aborted) forward();
    else callerSignal?.addEventListener('abort', forward, { once: true });
    const input = (command as { input: object }).input;
    // The same input sent twice at once would share one tag: the second call takes the options path.
    const byTag = tagged && !callSignals.has(input) && onlySignal(options as object | undefined);
    try {
      let answer: Promise<unknown>;
      if (byTag) {
        callSignals.set(input, call.signal);
        answer = send(command);
        // Untagged only once the SDK is done: an attempt it starts after the deadline must still see the signal.
        const untag = () => callSignals.delete(input);
        answer.then(untag, untag);
      } else answer = send(command, { ...(options as object), abortSignal: call.signal });
      // The deadline holds even while the SDK waits between retries, where it does not see the tag.
      answer.catch(() => {});
      return await Promise.race([answer, onAbort(call.signal)]);
    } catch (error) {
      if (timedOut && !callerSignal?.aborted) {
        const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
        throw new DeadlineError(`${name} to ${endpoint} got no answer within ${ms} ms`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', forward);
    }
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return timedSend as Send;
      return Reflect.get(target, property, receiver);
    },
  });
}

export interface SqsClientOptions {
  connection: SqsConnection;
  deadlines: SqsDeadlines;
  /** The longest long poll, so the socket timeout never cuts one short. */
  maxWaitSeconds: number;
  maxSockets: number;
}

/** The SQS client options of a processor with this configuration. */
export function sqsClientOptions(config: ProcessorConfig, endpoint: string | undefined): SqsClientOptions {
  return {
    connection: { region: config.region, endpoint, localCredentials: config.localCredentials },
    deadlines: { callTimeoutMs: config.sqsCallTimeoutMs, connectTimeoutMs: config.sqsConnectTimeoutMs, receiveMarginMs: config.receiveDeadlineMarginMs },
    maxWaitSeconds: config.receiveWaitSeconds,
    maxSockets: config.pollers + config.sqsConcurrency,
  };
}

/**
 * The processor's SQS client: connection and socket timeouts, keep-alive, a deadline on every
 * call, and the SDK's per-call work done once per client where it can be.
 */
export function createProcessorSqsClient(options: SqsClientOptions): SQSClient {
  const { endpoint, region } = options.connection;
  const client = cutPerCallCosts(createSqsClient(options.connection, sqsClientConfig(options)));
  return withDeadlines(client, options.deadlines, endpoint ?? `SQS in ${region}`);
}

/**
 * The SDK options createProcessorSqsClient adds to the platform's client (the benchmark builds
 * the processor's client from them too); region, endpoint and credentials come from the connection.
 */
export function sqsClientConfig(options: SqsClientOptions): Omit<SQSClientConfig, 'region' | 'endpoint' | 'credentials'> {
  const { deadlines } = options;
  // Socket inactivity: longer than any call's deadline, so the deadline speaks first; a backstop.
  const socketTimeoutMs = Math.max(deadlines.callTimeoutMs, options.maxWaitSeconds * 1000 + deadlines.receiveMarginMs) + 1_000;
  const agent = { keepAlive: true, maxSockets: options.maxSockets };
  return {
    // The middleware chain of each command is built once, not on every call (withDeadlines sends without options).
    cacheMiddleware: true,
    // Signing and the MD5 checks of bodies, without a new Node key object or hash copy per digest.
    sha256: Sha256,
    md5: Md5,
    requestHandler: new CallSignalHttpHandler({
      connectionTimeout: deadlines.connectTimeoutMs,
      requestTimeout: socketTimeoutMs,
      httpAgent: agent,
      httpsAgent: agent,
    }),
  };
}
