/**
 * The few statistics the bench reports, in one place so every figure uses the same definitions.
 * Percentiles are nearest-rank on the sorted values (no interpolation); an empty list gives NaN,
 * which the report prints as "n/a" rather than a made-up 0.
 */

/** The value at rank floor(p % x n) of the sorted values (the largest for p = 100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The 50th percentile: the middle value, the upper one of the two middles for an even count. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A distribution in four numbers. */
export interface Stats {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
}

export function stats(values: readonly number[]): Stats {
  return { count: values.length, mean: mean(values), p50: percentile(values, 50), p99: percentile(values, 99) };
}
