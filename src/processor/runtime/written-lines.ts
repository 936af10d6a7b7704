/**
 * On a terminal, what was written as short lines a person can follow: a type's first batch at
 * once ("written: 4 referrer visits, latency 35 ms"), then the batches of the next second as one
 * line, so a steady flow prints about a line per type per second, whatever the batch size.
 * JSON logs keep the storage adapter's line per batch instead; this is for people only.
 */
import type { Logger } from 'pino';
import type { Report } from '../../../machines/types.ts';

/** How long a type's batches after a printed line are grouped into the next one. */
export const GROUP_WINDOW_MS = 1_000;

interface Group {
  batches: number;
  rows: number;
  minLatencyMs: number;
  maxLatencyMs: number;
}

interface TypeState {
  /** Until when batches of this type are grouped (a line was printed at windowEnd - window). */
  windowEnd: number;
  group: Group | undefined;
}

/** Oldest and newest visit's age when written: from the agent's created_at to now (never below 0). */
function latencies(createdAt: readonly number[], now: number): { min: number; max: number } {
  let min = Infinity;
  let max = 0;
  for (const at of createdAt) {
    const age = Math.max(0, now - at);
    if (age < min) min = age;
    if (age > max) max = age;
  }
  return { min: min === Infinity ? 0 : min, max };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const range = (min: number, max: number) => (min === max ? `${max} ms` : `${min}–${max} ms`);

/** The grouping, pure: `written` and `due` return the lines to print now. */
export class WrittenLines {
  readonly #windowMs: number;
  readonly #types = new Map<string, TypeState>();

  constructor(windowMs = GROUP_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** A batch of `type` was written at `now`; its visits were created at `createdAt`. */
  written(type: string, count: number, createdAt: readonly number[], now: number): string[] {
    const lines = this.due(now);
    const { min, max } = latencies(createdAt, now);
    const state = this.#types.get(type);
    if (state === undefined || now >= state.windowEnd) {
      this.#types.set(type, { windowEnd: now + this.#windowMs, group: undefined });
      lines.push(`written: ${plural(count, `${type} visit`, `${type} visits`)}, latency ${range(min, max)}`);
      return lines;
    }
    const group = state.group ?? { batches: 0, rows: 0, minLatencyMs: Infinity, maxLatencyMs: 0 };
    group.batches += 1;
    group.rows += count;
    group.minLatencyMs = Math.min(group.minLatencyMs, min);
    group.maxLatencyMs = Math.max(group.maxLatencyMs, max);
    state.group = group;
    return lines;
  }

  /** Lines of the groups whose window ended by `now`; a type that printed one keeps grouping for another window. */
  due(now: number): string[] {
    const lines: string[] = [];
    for (const [type, state] of this.#types) {
      if (now < state.windowEnd) continue;
      if (state.group === undefined) {
        this.#types.delete(type);
        continue;
      }
      lines.push(this.#line(type, state.group));
      this.#types.set(type, { windowEnd: now + this.#windowMs, group: undefined });
    }
    return lines;
  }

  /** Every group still open, as lines (at stop). */
  flush(): string[] {
    const lines = [...this.#types].flatMap(([type, state]) => (state.group ? [this.#line(type, state.group)] : []));
    this.#types.clear();
    return lines;
  }

  /** When the next open group is due, or undefined when none is open. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const state of this.#types.values()) if (state.group && (next === undefined || state.windowEnd < next)) next = state.windowEnd;
    return next;
  }

  #line(type: string, group: Group): string {
    const rows = plural(group.rows, `${type} visit`, `${type} visits`);
    return `written: ${rows} in ${plural(group.batches, 'batch', 'batches')}, latency ${range(group.minLatencyMs, group.maxLatencyMs)}`;
  }
}

/** The grouping on a timer, fed by the processor's reports, printing at info through `logger`. */
export function createWrittenLines(logger: Logger, now: () => number = Date.now): { report: (report: Report) => void; flush: () => void } {
  const lines = new WrittenLines();
  let timer: NodeJS.Timeout | undefined;
  const print = (out: readonly string[]) => {
    for (const line of out) logger.info(line);
  };
  const schedule = () => {
    const next = lines.nextDue();
    if (timer !== undefined || next === undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        print(lines.due(now()));
        schedule();
      },
      Math.max(0, next - now()),
    );
    timer.unref();
  };
  return {
    report: (report) => {
      if (report.kind !== 'written') return;
      print(lines.written(report.type, report.count, report.createdAt, now()));
      schedule();
    },
    flush: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      print(lines.flush());
    },
  };
}
