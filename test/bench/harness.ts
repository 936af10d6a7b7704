/**
 * What every competitor shares: an SQS client whose every call waits the same injected round
 * trip (SDK middleware) and is counted, and one storage port whose every write waits the same
 * latency and records visit ids.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
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

export function delayedStorage(latencyMs: number): BenchStorage {
  const storage: BenchStorage = {
    backend: 'bench',
    latencies: new Map(),
    writes: 0,
    duplicates: 0,
    async writeBatch(_type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      storage.writes += 1;
      if (latencyMs > 0) await sleep(latencyMs);
      signal.throwIfAborted();
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
