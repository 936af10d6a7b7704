/**
 * One semantic for a reused visit_id on every backend: the last write wins. A batch carrying the
 * same visit_id twice keeps its last row only (two concurrent CQL inserts of one row would race;
 * a MySQL multi-row upsert would apply them in order), and a visit_id
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

/**
 * Remembers what recent visit_ids carried: at least the last `capacity`, at most twice as many.
 * Two generations, the older dropped whole when the newer is full: evicting one id at a time from
 * the front of one Map leaves V8 scanning past deleted entries on every eviction.
 */
export class VisitIdMemory {
  readonly #capacity: number;
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records the rows of a batch (in order); returns the visit_ids whose content changed. */
  record(rows: readonly VisitRow[]): string[] {
    const changed = new Set<string>();
    for (const row of rows) {
      // Every column (toRow lists them in one order), so a type's new field needs no change here.
      const content = JSON.stringify(row);
      const before = this.#current.get(row.visit_id) ?? this.#previous.get(row.visit_id);
      if (before !== undefined && before !== content) changed.add(row.visit_id);
      this.#previous.delete(row.visit_id);
      this.#current.set(row.visit_id, content);
      if (this.#current.size >= this.#capacity) {
        this.#previous = this.#current;
        this.#current = new Map();
      }
    }
    return [...changed];
  }
}
