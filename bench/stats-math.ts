// Percentiles and medians of latency samples, rounded for tables.

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One decimal, as every millisecond figure is reported. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** p50, p99 and max, rounded. */
export function latencySummary(samples: readonly number[]): { p50: number; p99: number; max: number } {
  return {
    p50: round1(percentile(samples, 50)),
    p99: round1(percentile(samples, 99)),
    max: round1(samples.length ? Math.max(...samples) : NaN),
  };
}
