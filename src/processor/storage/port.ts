/**
 * Rows as the storage adapters write them. The storage port itself (StoragePort) is defined
 * beside the machines, in machines/ports.ts; adapters implement it (upsert by visit_id, reuse.ts).
 */
import type { VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';

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
