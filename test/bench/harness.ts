/**
 * What every competitor shares: an SQS client whose every call waits the same injected round
 * trip (SDK middleware) and is counted, and one storage port whose every write waits the same
 * latency, records visit ids and, in the "echo" variant, also runs the real MySQL echo adapter
 * (its statement, its rows and its pino `write` line, to /dev/null) so every competitor pays
 * the cost of the real job's output alike.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import pino, { type Logger } from 'pino';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import { createLogger } from '../../src/processor/logger.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import type { StoragePort } from '../../src/processor/storage/port.ts';
import { LOCAL_CREDENTIALS } from '../../src/queues.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CountingClient {
  readonly client: SQSClient;
  calls(): number;
}

export function delayedClient(endpoint: string, rttMs: number): CountingClient {
  let calls = 0;
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  client.middlewareStack.add(
    (next) => async (args) => {
      calls += 1;
      if (rttMs > 0) await sleep(rttMs);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'benchRoundTrip' },
  );
  return { client, calls: () => calls };
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
  return createLogger('info', 'traffic-processor', pino.destination({ dest: '/dev/null', sync: true }));
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

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
