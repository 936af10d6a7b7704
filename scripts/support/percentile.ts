/**
 * The nearest-rank percentile of ascending `sorted` values (0 for none): the smallest value with
 * at least p % of the values at or below it. One definition for the load generator and the benchmark.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}
