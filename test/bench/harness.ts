/**
 * What every competitor shares: the same injected round trip before each HTTP request, its SQS
 * calls counted, and one storage port whose every write waits the same
 * latency, records visit ids and, in the "echo" variant, also runs the real MySQL echo adapter
 * (its statement, its rows and its pino `write` line, to /dev/null) so every competitor pays
 * the cost of the real job's output alike.
 */
import http from 'node:http';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import pino, { type Logger } from 'pino';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import type { StoragePort } from '../../machines/ports.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CountingClient {
  readonly client: SQSClient;
  calls(): number;
  /**
   * Mean ms of the ReceiveMessage calls that returned messages, as the competitor sees them: the
   * injected round trip, the endpoint, the SDK's own work, retries and the wait for the competitor's
   * event loop. With P pollers of one receive each, msg/s is at most P × 10 / this.
   */
  receiveMs(): number;
}

/**
 * The injected round trip: every HTTP request this process makes waits `rttMs` before it is given
 * a socket, so at the same point for every competitor (just before it goes on the wire), whichever
 * client sends it (the SDK's Node handler or the processor's per-message calls). Requests over
 * `exempt` (the drain watcher's agent) do not wait.
 */
export function delayRequests(rttMs: number, exempt: http.Agent): void {
  if (rttMs <= 0) return;
  const agent = http.Agent.prototype as unknown as { addRequest(this: http.Agent, request: unknown, options: unknown): void };
  const addRequest = agent.addRequest;
  agent.addRequest = function (request, options) {
    if (this === exempt) addRequest.call(this, request, options);
    else setTimeout(() => addRequest.call(this, request, options), rttMs);
  };
}

/** The competitor's own client, its calls counted and its receives timed (the round trip included). */
export function countedClient(client: SQSClient): CountingClient {
  let calls = 0;
  // Empty receives (the long polls at the end of a drain) are not counted: they wait by design.
  let receives = 0;
  let receiveMsTotal = 0;
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const countedSend = async (command: unknown, options?: unknown) => {
    const started = performance.now();
    calls += 1;
    const output = await send(command, options);
    if (command instanceof ReceiveMessageCommand && (output as { Messages?: unknown[] }).Messages?.length) {
      receives += 1;
      receiveMsTotal += performance.now() - started;
    }
    return output;
  };
  const counted = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return countedSend;
      return Reflect.get(target, property, receiver);
    },
  });
  return { client: counted, calls: () => calls, receiveMs: () => (receives === 0 ? 0 : receiveMsTotal / receives) };
}

export interface BenchStorage extends StoragePort {
  /** visit_id -> ms from created_at to written. */
  readonly latencies: Map<string, number>;
  writes: number;
  duplicates: number;
}

/** What a competitor's writes do besides waiting: record only, or also echo like `npm start`. */
export type StorageVariant = 'echo' | 'record';
export const STORAGE_VARIANTS: readonly StorageVariant[] = ['echo', 'record'];

/** The JSON logger `npm start` builds (info level, same redaction), writing to /dev/null synchronously as pino does to stdout. */
export function benchLogger(): Logger {
  return createLogger({ name: 'traffic-processor', level: 'info', destination: pino.destination({ dest: '/dev/null', sync: true }) });
}

export function delayedStorage(latencyMs: number, variant: StorageVariant = 'record', logger: Logger = benchLogger()): BenchStorage {
  const echo = variant === 'echo' ? createStorage('mysql', logger) : undefined;
  const storage: BenchStorage = {
    backend: echo ? `bench-${echo.backend}` : 'bench',
    latencies: new Map(),
    writes: 0,
    duplicates: 0,
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      storage.writes += 1;
      if (latencyMs > 0) await sleep(latencyMs);
      signal.throwIfAborted();
      if (echo) await echo.writeBatch(type, visits, signal);
      const now = Date.now();
      for (const visit of visits) {
        if (storage.latencies.has(visit.visitId)) storage.duplicates += 1;
        else storage.latencies.set(visit.visitId, now - visit.createdAt);
      }
    },
  };
  return storage;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
