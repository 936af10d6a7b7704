/**
 * The SQS client with deadlines that hold whatever the endpoint does. The SDK has no timeout
 * by default: a connection that stops answering without closing (half-open, as behind a NAT
 * that lost its state) would hang a call for ever. Here every call gets its own deadline
 * (a long poll: its wait plus a margin); when it passes, the request is aborted, its socket
 * destroyed, and the next call opens a new connection.
 */
import { ReceiveMessageCommand, type SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { SqsConnection } from '../platform/config.ts';
import { createSqsClient } from '../platform/sqs.ts';
import type { ProcessorConfig } from './config.ts';

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
 * Wraps `client.send` so each call is aborted at its deadline (as well as by the caller's
 * signal) and fails with a DeadlineError naming the call and the endpoint.
 */
export function withDeadlines(client: SQSClient, deadlines: SqsDeadlines, endpoint = 'the SQS endpoint'): SQSClient {
  const send = client.send.bind(client) as (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
  const timedSend = async (command: unknown, options?: unknown) => {
    if (typeof options === 'function') throw new TypeError('callback-style send is not supported');
    const callerSignal = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    const ms = deadlineOf(command, deadlines);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), ms);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline.signal]) : deadline.signal;
    try {
      return await send(command, { ...(options as object), abortSignal: signal });
    } catch (error) {
      if (deadline.signal.aborted && !callerSignal?.aborted) {
        const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
        throw new DeadlineError(`${name} to ${endpoint} got no answer within ${ms} ms`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
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

/** The processor's SQS client: connection and socket timeouts, keep-alive, and a deadline on every call. */
export function createProcessorSqsClient(options: SqsClientOptions): SQSClient {
  const { endpoint, region } = options.connection;
  return withDeadlines(createSqsClient(options.connection, sqsClientConfig(options)), options.deadlines, endpoint ?? `SQS in ${region}`);
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
    requestHandler: {
      connectionTimeout: deadlines.connectTimeoutMs,
      requestTimeout: socketTimeoutMs,
      httpAgent: agent,
      httpsAgent: agent,
    },
  };
}
