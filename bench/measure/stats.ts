// Summary statistics for benchmark samples. Percentiles interpolate linearly between the two
// nearest ranks (the "R-7" definition that numpy and most spreadsheets use), so a p99 of 100
// samples is not simply the largest but one.

export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of `values`; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * Math.min(Math.max(q, 0), 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, median: NaN, p99: NaN, min: NaN, max: NaN, mean: NaN };
  return {
    n: values.length,
    median: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    // Not Math.min(...values): fan-out collects hundreds of thousands of samples, more
    // arguments than a call may take.
    min: values.reduce((a, b) => Math.min(a, b)),
    max: values.reduce((a, b) => Math.max(a, b)),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** Rounds for display: 3 significant digits, at most 2 decimals. */
export function fmt(value: number, decimals = 2): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(Math.min(1, decimals));
  return value.toFixed(decimals);
}

/** Least-squares slope of `y` over the session count (e.g. bytes of RSS per session). */
export function slope<T extends { sessions: number }>(
  points: readonly T[],
  y: (p: T) => number,
): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.sessions, 0) / n;
  const my = points.reduce((a, p) => a + y(p), 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.sessions - mx) * (y(p) - my);
    den += (p.sessions - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
