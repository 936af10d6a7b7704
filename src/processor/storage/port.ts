/**
 * The storage port as the processor runs it, and rows as the adapters write them. What the
 * writers need (StoragePort: write a batch) is defined beside the machines, in machines/ports.ts;
 * an adapter adds its lifecycle here, which the wiring (main.ts) and /healthz use.
 */
import type { StoragePort } from '../../../machines/ports.ts';
import type { ExtraField, VisitTypeDefinition } from '../../contract/visit-types.ts';
import type { Visit } from '../../contract/visit.ts';

/** Whether a backend can take writes now, and if not, why (what /healthz reports). */
export type StorageStatus = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/**
 * A storage adapter: the writers' port and its lifecycle. A real driver connects lazily and
 * fails late; these make its state explicit.
 */
export interface StorageAdapter extends StoragePort {
  /**
   * Settles once the backend can take writes (connected, its tables there); rejects with the
   * reason otherwise. The processor receives nothing before it settles; honours `signal`.
   */
  ready(signal: AbortSignal): Promise<void>;
  /** Cheap and synchronous: read on every /healthz. */
  status(): StorageStatus;
  /** Releases connections; called once, after the last write. Writes after it reject. */
  close(): Promise<void>;
}

/** A row as stored: column names of the schema files in schema/; each type has its extra field's column. */
export type VisitRow = { visit_id: string; created_at: number } & { [F in ExtraField]?: string | null };

/** The row for a visit in its type's table: the common columns and the type's extra field. */
export function toRow(type: VisitTypeDefinition, visit: Visit): VisitRow {
  return { visit_id: visit.visitId, created_at: visit.createdAt, [type.extraField]: visit[type.extraField] ?? null };
}
