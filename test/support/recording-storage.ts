/**
 * A StoragePort for tests: keeps rows by visit_id (upsert, like the real adapters) and
 * counts write calls per visit_id, optionally failing a share of calls.
 */
import type { Visit } from '../../src/contract/visit.ts';
import type { VisitTypeDefinition } from '../../src/contract/visit-types.ts';
import type { StoragePort } from '../../machines/ports.ts';

export interface RecordingStorage extends StoragePort {
  /** visit_id -> table and visit, as an upsert would leave them. */
  readonly rows: Map<string, { table: string; visit: Visit }>;
  /** visit_id -> how many write calls carried it. */
  readonly writes: Map<string, number>;
  calls: number;
  failures: number;
}

export function createRecordingStorage(options: { failRate?: number; random?: () => number; delayMs?: number } = {}): RecordingStorage {
  const random = options.random ?? Math.random;
  const storage: RecordingStorage = {
    backend: 'recording',
    rows: new Map(),
    writes: new Map(),
    calls: 0,
    failures: 0,
    async writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal) {
      storage.calls += 1;
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      signal.throwIfAborted();
      if (options.failRate && random() < options.failRate) {
        storage.failures += 1;
        throw new Error('injected storage failure');
      }
      for (const visit of visits) {
        storage.rows.set(visit.visitId, { table: type.table, visit });
        storage.writes.set(visit.visitId, (storage.writes.get(visit.visitId) ?? 0) + 1);
      }
    },
  };
  return storage;
}
