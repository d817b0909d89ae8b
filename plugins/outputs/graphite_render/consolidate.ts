/**
 * graphite-web's maxDataPoints rule for format=json (render/views.py renderViewJson, 1.1.8), kept
 * exact so that panels show the same buckets as graphite-web:
 *   - the time range is max(end) - min(start) over ALL series of the response;
 *   - maxDataPoints == 1 folds each series into one value;
 *   - otherwise, when the series has more than maxDataPoints steps in that range, values are grouped
 *     by vpp = ceil(steps / maxDataPoints) after nudging start to a multiple of vpp*step, and the
 *     nudge drops ONE VALUE FEWER than it shifts the start (graphite-web's off-by-one, kept on purpose);
 *   - a group is null unless it has a non-null value and nonNull/vpp >= xFilesFactor, the trailing
 *     partial group included (its ratio is still taken over vpp);
 *   - timestamps run from the (nudged) start by vpp*step up to end inclusive, and points are zipped
 *     with them, so a series can lose trailing values when the nudge pushed start forward.
 */

export interface Consolidatable {
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly values: Float64Array;
  readonly consolidationFunc: string;
  readonly xFilesFactor: number;
}

/** The points of one series as graphite-web writes them: parallel arrays of values (NaN = null) and timestamps. */
export interface Points {
  readonly values: Float64Array;
  readonly times: Float64Array;
}

export class ConsolidationError extends Error {}

/** Applies maxDataPoints (undefined = none) to every series, using the response-wide time range. */
export function pointsForJson(series: readonly Consolidatable[], maxDataPoints: number | undefined): Points[] {
  if (series.length === 0) return [];
  let minStart = Infinity;
  let maxEnd = -Infinity;
  for (const s of series) {
    if (s.start < minStart) minStart = s.start;
    if (s.end > maxEnd) maxEnd = s.end;
  }
  const timeRange = maxEnd - minStart;
  return series.map((s) => {
    let start = s.start;
    let values = s.values;
    let vpp = 1;
    if (maxDataPoints !== undefined) {
      if (maxDataPoints === 1) {
        vpp = values.length;
      } else {
        const n = timeRange / s.step;
        if (maxDataPoints < n) {
          vpp = Math.ceil(n / maxDataPoints);
          const spp = vpp * s.step;
          const nudge = spp + pyMod(s.start, s.step) - pyMod(s.start, spp);
          start = s.start + nudge;
          const lose = Math.trunc(nudge / s.step) - 1;
          if (lose > 0) values = values.subarray(Math.min(lose, values.length));
        }
      }
    }
    return zipPoints(start, s.end, s.step * vpp, consolidateValues(values, vpp, s.consolidationFunc, s.xFilesFactor));
  });
}

/** Python's `range(int(start), int(end) + 1, stride)` zipped with the values. */
function zipPoints(start: number, end: number, stride: number, values: Float64Array): Points {
  if (stride <= 0) return { values: new Float64Array(0), times: new Float64Array(0) };
  const s = Math.trunc(start);
  const e = Math.trunc(end) + 1;
  const slots = e > s ? Math.ceil((e - s) / stride) : 0;
  const n = Math.min(slots, values.length);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = s + i * stride;
  return { values: n === values.length ? values : values.subarray(0, n), times };
}

/** Groups of `vpp` values folded by the consolidation function (graphite-web's consolidating generator). */
export function consolidateValues(values: Float64Array, vpp: number, func: string, xff: number): Float64Array {
  if (vpp <= 1) return values;
  const f = func === 'avg' ? 'average' : func;
  if (!['sum', 'average', 'avg_zero', 'max', 'min', 'first', 'last'].includes(f)) {
    throw new ConsolidationError(`Invalid consolidation function: '${func}'`);
  }
  const out = new Float64Array(Math.ceil(values.length / vpp));
  for (let g = 0, o = 0; g < values.length; g += vpp, o++) {
    const end = Math.min(values.length, g + vpp);
    let nonNull = 0;
    let sum = 0;
    let count = 0;
    let min = Infinity;
    let max = -Infinity;
    let first = NaN;
    let last = NaN;
    for (let i = g; i < end; i++) {
      const x = values[i]!;
      if (Number.isNaN(x)) {
        if (f === 'avg_zero') count++;
        continue;
      }
      if (nonNull === 0) first = x;
      last = x;
      nonNull++;
      count++;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (nonNull === 0 || nonNull / vpp < xff) {
      out[o] = NaN;
      continue;
    }
    switch (f) {
      case 'sum': out[o] = sum; break;
      case 'average': case 'avg_zero': out[o] = sum / count; break;
      case 'max': out[o] = max; break;
      case 'min': out[o] = min; break;
      case 'first': out[o] = first; break;
      default: out[o] = last;
    }
  }
  return out;
}

/** Python's % (the result takes the divisor's sign). */
export function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}
