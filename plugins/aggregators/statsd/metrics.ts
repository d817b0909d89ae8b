/**
 * The StatsD maths as pure functions: Etsy statsd 0.9.0's process_metrics semantics
 * (protocols.md §3.3). Sums are built from the same prefix sums over the same sorted values, in the
 * same order, so the floating-point results are bit-identical to Etsy's.
 */
import type { HistogramRule } from './options.js';

/** One histogram bin, ready for the flush: its upper bound and its sub-metric name. */
export interface Bin {
  readonly bound: number;
  readonly stat: string;
}

/** A histogram rule with its bins compiled once, not per timer and flush. */
export interface CompiledHistogramRule {
  readonly metric: string;
  readonly bins: readonly Bin[];
}

/**
 * Etsy names a bin `bin_` + the bound as written in its config (first `.` → `_`) and compares values
 * with it as a number (a numeric string too); 'inf' takes every value left.
 */
export function compileHistograms(rules: readonly HistogramRule[]): CompiledHistogramRule[] {
  return rules.map((r) => ({
    metric: r.metric,
    bins: r.bins.map((b) => ({ bound: b === 'inf' ? Infinity : Number(b), stat: `histogram.bin_${String(b).replace('.', '_')}` })),
  }));
}

/** Receives one timer sub-metric: `stat` is e.g. `upper_90` or `histogram.bin_100`. */
export type StatEmitter = (stat: string, value: number) => void;

export interface TimerConfig {
  readonly intervalSecs: number;
  readonly percentThresholds: readonly number[];
  /** the `clean` name part of each threshold, precomputed (99.9 → `99_9`, -10 → `top10`) */
  readonly percentNames: readonly string[];
  /** empty = all; else the filter of Etsy's calculatedTimerMetrics */
  readonly calculatedTimerMetrics: ReadonlySet<string>;
}

/** Etsy's name part for a percentile: first `.` → `_`, first `-` → `top`. */
export function percentName(p: number): string {
  return String(p).replace('.', '_').replace('-', 'top');
}

/** Etsy's calculatedTimerMetrics test: percentile stats match as `<name>_percent`. */
export function timerStatWanted(stat: string, filter: ReadonlySet<string>): boolean {
  return filter.size === 0 || filter.has(stat.replace(/_(top)?\d+$/, '_percent'));
}

/** The counter rate Etsy writes as `stats.<key>`. */
export function counterRate(value: number, intervalSecs: number): number {
  return value / intervalSecs;
}

/**
 * All sub-metrics of one timer for one flush. `sorted` are this interval's raw values in ascending
 * order; `count` is the sample-rate-corrected count (Σ 1/rate). With no values only `count` and
 * `count_ps` (both 0) exist, as in Etsy.
 */
export function timerStats(sorted: Float64Array, count: number, cfg: TimerConfig, bins: readonly Bin[] | undefined, emit: StatEmitter): void {
  const f = cfg.calculatedTimerMetrics;
  const out = f.size === 0 ? emit : (stat: string, v: number) => (timerStatWanted(stat, f) ? emit(stat, v) : undefined);
  const n = sorted.length;
  if (n === 0) {
    out('count', 0);
    out('count_ps', 0);
    return;
  }
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const cum = new Float64Array(n);
  const cumSq = new Float64Array(n);
  cum[0] = min;
  cumSq[0] = min * min;
  for (let i = 1; i < n; i++) {
    const v = sorted[i]!;
    cum[i] = v + cum[i - 1]!;
    cumSq[i] = v * v + cumSq[i - 1]!;
  }

  const pcts = cfg.percentThresholds;
  for (let j = 0; j < pcts.length; j++) {
    const p = pcts[j]!;
    let k = n;
    let sum = min;
    let sumSq = min * min;
    let mean = min;
    let boundary = max;
    if (n > 1) {
      k = Math.round((Math.abs(p) / 100) * n);
      if (k === 0) continue;
      if (p > 0) {
        boundary = sorted[k - 1]!;
        sum = cum[k - 1]!;
        sumSq = cumSq[k - 1]!;
      } else {
        boundary = sorted[n - k]!;
        // Etsy reads index -1 here when k === n and writes NaN; the sum of all values is meant
        const below = n - k - 1 >= 0 ? cum[n - k - 1]! : 0;
        const belowSq = n - k - 1 >= 0 ? cumSq[n - k - 1]! : 0;
        sum = cum[n - 1]! - below;
        sumSq = cumSq[n - 1]! - belowSq;
      }
      mean = sum / k;
    }
    const c = cfg.percentNames[j]!;
    out(`count_${c}`, k);
    out(`mean_${c}`, mean);
    out(`${p > 0 ? 'upper_' : 'lower_'}${c}`, boundary);
    out(`sum_${c}`, sum);
    out(`sum_squares_${c}`, sumSq);
  }

  const sum = cum[n - 1]!;
  const mean = sum / n;
  let sumOfDiffs = 0;
  for (let i = 0; i < n; i++) {
    const d = sorted[i]! - mean;
    sumOfDiffs += d * d;
  }
  const mid = Math.floor(n / 2);
  out('std', Math.sqrt(sumOfDiffs / n));
  out('upper', max);
  out('lower', min);
  out('count', count);
  out('count_ps', count / cfg.intervalSecs);
  out('sum', sum);
  out('sum_squares', cumSq[n - 1]!);
  out('mean', mean);
  out('median', n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2);

  if (bins && bins.length > 0 && timerStatWanted('histogram', f)) histogram(sorted, bins, emit);
}

/**
 * Values per bin: bin b counts the values in [previous bound, b); 'inf' takes every value left.
 * Values at or above the last finite bound without an 'inf' bin are not counted (Etsy, by design).
 */
export function histogram(sorted: Float64Array, bins: readonly Bin[], emit: StatEmitter): void {
  let i = 0;
  const n = sorted.length;
  for (const { bound, stat } of bins) {
    let freq = 0;
    for (; i < n && sorted[i]! < bound; i++) freq++;
    emit(stat, freq);
  }
}

/** The first rule whose metric is a substring of the key. */
export function binsFor(key: string, rules: readonly CompiledHistogramRule[]): readonly Bin[] | undefined {
  for (const r of rules) if (key.includes(r.metric)) return r.bins;
  return undefined;
}
