/**
 * The SQS client with deadlines that hold whatever the endpoint does. The SDK has no timeout
 * by default: a connection that stops answering without closing (half-open, as behind a NAT
 * that lost its state) would hang a call for ever. Here every call gets its own deadline
 * (a long poll: its wait plus a margin); when it passes, the request is aborted, its socket
 * destroyed, and the next call opens a new connection.
 */
import http from 'node:http';
import https from 'node:https';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RetryStrategyV2 } from '@smithy/types';
import { StandardRetryStrategy } from '@smithy/util-retry';
import type { SqsConnection } from '../../platform/config.ts';
import { createSqsClient } from '../../platform/sqs.ts';
import type { ProcessorConfig } from '../config/config.ts';
import { CappedHttpHandler } from './answer-cap.ts';
import { withLeanCalls } from './lean-calls.ts';

/** Attempts per SQS call (the SDK's standard mode): one retry budget for the lean calls and the SDK's. */
const SQS_MAX_ATTEMPTS = 3;

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
  const timedSend = async (command: unknown, options?: unknown) => {
    if (typeof options === 'function') throw new TypeError('callback-style send is not supported');
    const callerSignal = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    const ms = deadlineOf(command, deadlines);
    // One controller per call, aborted by its deadline or by the caller's signal. Forwarding by a
    // listener, not AbortSignal.any: that one makes WeakRefs per call, which V8 keeps until the
    // event loop turn ends (and caps per turn).
    const call = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort();
    }, ms);
    const forward = () => call.abort(callerSignal?.reason);
    if (callerSignal?.aborted) forward();
    else callerSignal?.addEventListener('abort', forward, { once: true });
    try {
      const answer = send(command, { ...(options as object), abortSignal: call.signal });
      // Settled here even when the deadline wins the race below.
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
  /** Per-message calls without the SDK's middleware (./lean-calls.ts); false: all through the SDK. */
  leanCalls?: boolean;
  /** The retry strategy of both paths; by default the SDK's standard mode with SQS_MAX_ATTEMPTS. */
  retryStrategy?: RetryStrategyV2;
}

/** The SQS client options of a processor with this configuration. */
export function sqsClientOptions(config: ProcessorConfig, endpoint: string | undefined): SqsClientOptions {
  return {
    leanCalls: config.leanCalls,
    connection: { region: config.region, endpoint, localCredentials: config.localCredentials },
    deadlines: { callTimeoutMs: config.sqsCallTimeoutMs, connectTimeoutMs: config.sqsConnectTimeoutMs, receiveMarginMs: config.receiveDeadlineMarginMs },
    maxWaitSeconds: config.receiveWaitSeconds,
    maxSockets: config.pollers + config.sqsConcurrency,
  };
}

/**
 * The processor's SQS client without its deadlines: connection and socket timeouts, keep-alive,
 * answers capped in size, one retry strategy, and the per-message calls sent without the SDK's
 * middleware (./lean-calls.ts) unless `leanCalls` is false; the SDK sends the others (start-up
 * checks, queue URLs). The benchmark builds the processor's from it.
 */
export function processorSqsClient(options: SqsClientOptions): SQSClient {
  const { deadlines } = options;
  // Socket inactivity: longer than any call's deadline, so the deadline speaks first; a backstop.
  const socketTimeoutMs = Math.max(deadlines.callTimeoutMs, options.maxWaitSeconds * 1000 + deadlines.receiveMarginMs) + 1_000;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const agents = { httpAgent: new http.Agent(agentOptions), httpsAgent: new https.Agent(agentOptions) };
  // Built here, not by the SDK, so the lean calls share it (its retry budget) rather than reach into the client's config.
  const retryStrategy = options.retryStrategy ?? new StandardRetryStrategy(SQS_MAX_ATTEMPTS);
  const sdk = createSqsClient(options.connection, {
    requestHandler: new CappedHttpHandler({ connectionTimeout: deadlines.connectTimeoutMs, requestTimeout: socketTimeoutMs, ...agents }),
    retryStrategy,
  });
  if (options.leanCalls === false) return sdk;
  return withLeanCalls(sdk, { ...agents, connectTimeoutMs: deadlines.connectTimeoutMs, socketTimeoutMs, endpoint: options.connection.endpoint, retryStrategy });
}

/** The processor's SQS client: processorSqsClient with a deadline on every call. */
export function createProcessorSqsClient(options: SqsClientOptions): SQSClient {
  const { endpoint, region } = options.connection;
  return withDeadlines(processorSqsClient(options), options.deadlines, endpoint ?? `SQS in ${region}`);
}

/**
 * The client the DLQ copies are sent with: one attempt per call. SendMessageBatch on a standard
 * queue is not idempotent: an attempt whose answer was lost may have stored its copies, and a
 * retry within the call would store them again unseen. The copies not confirmed stay on the
 * PIPELINE and are sent again later, counted as possible duplicates (./queue.ts).
 */
export function createDlqSendClient(options: SqsClientOptions): SQSClient {
  return createProcessorSqsClient({ ...options, retryStrategy: new StandardRetryStrategy(1) });
}
