/** The one-line progress bar and the closing summary of a traffic run. Pure text. */
import type { TrafficProgress, TrafficSummary } from './run.ts';

const BAR_WIDTH = 30;

/** `[#########.....]  312/1000  31%  accepted 280  rejected 32  failed 0  1234 msg/s` */
export function progressLine(progress: TrafficProgress, total: number): string {
  const ratio = total > 0 ? Math.min(1, progress.sent / total) : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  const rate = progress.elapsedMs > 0 ? Math.round((progress.sent * 1000) / progress.elapsedMs) : 0;
  const width = String(total).length;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(progress.sent).padStart(width)}/${total} ` +
    `${String(Math.floor(ratio * 100)).padStart(3)}%  accepted ${progress.accepted}  rejected ${progress.rejected}  failed ${progress.failed}  ${rate} msg/s`
  );
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}

export function summaryText(summary: TrafficSummary): string {
  const statuses = Object.entries(summary.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const lines = [
    `traffic: ${summary.aborted ? 'stopped early: ' : ''}sent ${summary.sent} in ${fixed(summary.elapsedMs / 1000, 2)} s`,
    `  accepted ${summary.accepted}, rejected ${summary.rejected}, failed ${summary.failed}${statuses ? `  (${statuses})` : ''}`,
    `  ${Math.round(summary.perSecond)} msg/s sent, ${Math.round(summary.acceptedPerSecond)} msg/s enqueued`,
    `  latency p50 ${fixed(summary.latencyMs.p50)} ms, p99 ${fixed(summary.latencyMs.p99)} ms, max ${fixed(summary.latencyMs.max)} ms`,
  ];
  if (summary.unexpected > 0) lines.push(`  ${summary.unexpected} answer(s) differed from what the generated visit expected`);
  return `${lines.join('\n')}\n`;
}
