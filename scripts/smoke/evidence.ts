/**
 * Where the smoke test reads that a visit was written: the processor's own `write` lines, from a
 * JSON log file (the embedded default, `LOG_JSON=1 npm start > processor.log`) or from its
 * CloudWatch log group on AWS (through the AWS CLI the deploy steps use).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** visit_id to the table its row was written in, from JSON log lines (others are skipped). Pure. */
export function writtenVisits(lines: Iterable<string>): Map<string, string> {
  const written = new Map<string, string>();
  for (const text of lines) {
    if (!text.startsWith('{')) continue;
    let line: { msg?: unknown; table?: unknown; rows?: unknown };
    try {
      line = JSON.parse(text);
    } catch {
      continue; // a line still being written
    }
    if (line.msg !== 'write' || typeof line.table !== 'string' || !Array.isArray(line.rows)) continue;
    for (const row of line.rows as Array<{ visit_id?: unknown }>) if (typeof row.visit_id === 'string') written.set(row.visit_id, line.table);
  }
  return written;
}

export type WriteSource = () => Promise<Map<string, string>>;

export function fromLogFile(path: string): WriteSource {
  return async () => writtenVisits((await readFile(path, 'utf8')).split('\n'));
}

/** The `write` lines of `group` since `sinceMs`, by `aws logs filter-log-events` (region and credentials from the environment). */
export function fromLogGroup(group: string, sinceMs: number): WriteSource {
  return async () => {
    const { stdout } = await promisify(execFile)(
      'aws',
      ['logs', 'filter-log-events', '--log-group-name', group, '--start-time', String(sinceMs), '--filter-pattern', '{ $.msg = "write" }', '--output', 'json'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const events = (JSON.parse(stdout) as { events?: Array<{ message?: string }> }).events ?? [];
    return writtenVisits(events.map((e) => e.message ?? ''));
  };
}
