/**
 * What every competitor shares: its SQS client, every call of which waits the same injected round
 * trip and is counted, and one storage port whose every write waits the same
 * latency, records visit ids and, in the "echo" variant, also runs the real MySQL echo adapter
 * (its statement, its rows and its pino `write` line, to /dev/null) so every competitor pays
 * the cost of the real job's output alike.
 */
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
 * The competitor's own client, every call of which first waits the injected round trip and is
 * counted. Wrapped around `send`, not added as SDK middleware: the processor sends its
 * per-message calls without the SDK's middleware.
 */
export function delayedClient(client: SQSClient, rttMs: number): CountingClient {
  let calls = 0;
  // Empty receives (the long polls at the end of a drain) are not counted: they wait by design.
  let receives = 0;
  let receiveMsTotal = 0;
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const delayedSend = async (command: unknown, options?: unknown) => {
    const started = performance.now();
    calls += 1;
    if (rttMs > 0) await sleep(rttMs);
    const output = await send(command, options);
    if (command instanceof ReceiveMessageCommand && (output as { Messages?: unknown[] }).Messages?.length) {
      receives += 1;
      receiveMsTotal += performance.now() - started;
    }
    return output;
  };
  const counted = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') return delayedSend;
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
