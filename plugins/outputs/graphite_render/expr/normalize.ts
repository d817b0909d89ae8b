import type { ConsolidationFunc } from './time-series.js';
import { TimeSeries } from './time-series.js';

/**
 * Folds groups of `vpp` consecutive values into one, from index 0 (graphite-web's
 * consolidating iterator): a group is null unless its non-null share reaches the xFilesFactor.
 */
export function consolidateValues(values: Float64Array, vpp: number, func: ConsolidationFunc, xFilesFactor: number): Float64Array {
  if (vpp <= 1) return values;
  const out = new Float64Array(Math.ceil(values.length / vpp));
  for (let g = 0; g < out.length; g++) {
    const from = g * vpp;
    const to = Math.min(values.length, from + vpp);
    let nonNull = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    let first = NaN;
    let last = NaN;
    for (let i = from; i < to; i++) {
      const x = values[i]!;
      if (Number.isNaN(x)) continue;
      if (nonNull === 0) first = x;
      nonNull++;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
      last = x;
    }
    if (!nonNull || nonNull / vpp < xFilesFactor) {
      out[g] = NaN;
      continue;
    }
    switch (func) {
      case 'sum':
        out[g] = sum;
        break;
      case 'average':
        out[g] = sum / nonNull;
        break;
      case 'avg_zero':
        out[g] = sum / (to - from);
        break;
      case 'min':
        out[g] = min;
        break;
      case 'max':
        out[g] = max;
        break;
      case 'first':
        out[g] = first;
        break;
      case 'last':
        out[g] = last;
        break;
    }
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function lcm(a: number, b: number): number {
  return a === b ? a : (a / gcd(a, b)) * b;
}

export interface Normalized {
  /** consolidated values of each input, in input order (not copied when already at `step`) */
  readonly values: Float64Array[];
  readonly start: number;
  readonly end: number;
  readonly step: number;
  /** longest consolidated length: rows are aligned by index, shorter series padded with null */
  readonly length: number;
}

/**
 * graphite-web's normalize(): step = lcm of all steps (others consolidated with their own
 * consolidationFunc), start = min start, end = max end trimmed to a whole number of steps.
 * Like graphite-web, rows are then combined by index, not by timestamp.
 */
export function normalize(series: readonly TimeSeries[]): Normalized | undefined {
  if (series.length === 0) return undefined;
  let step = series[0]!.step;
  for (const s of series) step = lcm(step, s.step);
  let start = Infinity;
  let end = -Infinity;
  const values: Float64Array[] = [];
  let length = 0;
  for (const s of series) {
    const v = consolidateValues(s.values, step / s.step, s.consolidationFunc, s.xFilesFactor);
    values.push(v);
    if (v.length > length) length = v.length;
    if (s.start < start) start = s.start;
    if (s.end > end) end = s.end;
  }
  end -= (end - start) % step;
  return { values, start, end, step, length };
}

/** row i across all value arrays (null past the end of a shorter one) */
export function row(values: readonly Float64Array[], i: number, out: Float64Array): Float64Array {
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    out[k] = i < v.length ? v[i]! : NaN;
  }
  return out;
}
