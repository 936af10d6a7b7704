/**
 * `npm run chaos [-- --quick]`: the fault suite. Prints one table (scenario, sent, written,
 * rewrites, dead-lettered, lost) and exits non-zero if anything was lost, or if a visit was
 * written twice where no process died (a lease that lapsed).
 */
import { readOptions } from '../../scripts/support/cli.ts';
import { failed, SCENARIOS, type Scale, type ScenarioResult } from './scenarios.ts';

export const FULL: Scale = { count: 10_000, outageMs: 30_000, badInputs: 10_000, dlqOutageMs: 120_000 };
export const QUICK: Scale = { count: 1_000, outageMs: 3_000, badInputs: 500, dlqOutageMs: 5_000 };

export function table(results: readonly ScenarioResult[]): string {
  const header = ['scenario', 'sent', 'written', 'rewrites', 'dead-lettered', 'lost', 'verdict', 'notes'];
  const rows = results.map((r) =>
    [
      r.scenario,
      r.sent,
      r.written,
      `${r.rewrites}${r.rewritesAllowed ? ' (allowed)' : ''}`,
      r.deadLettered,
      r.lost,
      failed(r) ? 'FAIL' : 'ok',
      r.failure ? `${r.notes}; FAILED: ${r.failure}` : r.notes,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

if (import.meta.main) {
  const { values } = readOptions('chaos', 'usage: npm run chaos [-- --quick]', { quick: { type: 'boolean', default: false } });
  const scale = values.quick ? QUICK : FULL;
  const results: ScenarioResult[] = [];
  const started = Date.now();
  for (const scenario of SCENARIOS) {
    const t0 = Date.now();
    const result = await scenario(scale);
    results.push(result);
    process.stderr.write(`${result.scenario}: ${failed(result) ? 'FAIL' : 'ok'} in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  }
  console.log(table(results));
  console.log(`took ${Math.round((Date.now() - started) / 1000)} s`);
  process.exitCode = results.some(failed) ? 1 : 0;
}
