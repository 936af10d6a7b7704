/**
 * The storage port: the minimal interface the writers need from a database.
 * Adapters must make `writeBatch` idempotent by visit_id (upsert), because SQS
 * delivers at least once and a batch may be retried after a partial failure; a visit_id
 * written again with other content keeps the last write on every backend (reuse.ts).
 */
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';

export interface StoragePort {
  readonly backend: string;
  /** Writes one batch of visits of one type to its table; rejects on failure, honours `signal`. */
  writeBatch(type: VisitTypeDefinition, visits: readonly Visit[], signal: AbortSignal): Promise<void>;
}

/** A row as stored: column names of the schema files in schema/. */
export interface VisitRow {
  visit_id: string;
  created_at: number;
  ip?: string | null;
  url?: string | null;
}

/** The row for a visit in its type's table: the common columns and the type's extra field. */
export function toRow(type: VisitTypeDefinition, visit: Visit): VisitRow {
  return { visit_id: visit.visitId, created_at: visit.createdAt, [type.extraField]: visit[type.extraField] ?? null };
}
