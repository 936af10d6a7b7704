/**
 * One semantic for a reused visit_id on every backend: the last write wins. A batch carrying the
 * same visit_id twice keeps its last row only (a CQL batch would give both the same timestamp and
 * let the larger value win; a MySQL multi-row upsert would apply them in order), and a visit_id
 * seen again with other content is reported, so the overwrite is never silent.
 */
import type { VisitRow } from './port.ts';

/** The rows with one per visit_id, the last of each, in the order of their last occurrence. */
export function lastRowPerVisitId(rows: readonly VisitRow[]): VisitRow[] {
  const byId = new Map<string, VisitRow>();
  for (const row of rows) {
    byId.delete(row.visit_id);
    byId.set(row.visit_id, row);
  }
  return [...byId.values()];
}

/** Remembers what the last `capacity` visit_ids carried, to notice one arriving with other content. */
export class VisitIdMemory {
  readonly #capacity: number;
  readonly #content = new Map<string, string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records the rows of a batch (in order); returns the visit_ids whose content changed. */
  record(rows: readonly VisitRow[]): string[] {
    const changed = new Set<string>();
    for (const row of rows) {
      const content = JSON.stringify([row.created_at, row.ip ?? null, row.url ?? null]);
      const before = this.#content.get(row.visit_id);
      if (before !== undefined && before !== content) changed.add(row.visit_id);
      this.#content.delete(row.visit_id);
      this.#content.set(row.visit_id, content);
      if (this.#content.size > this.#capacity) this.#content.delete(this.#content.keys().next().value!);
    }
    return [...changed];
  }
}
