import { badArgs } from '../errors.js';
import { ExactSum } from '../exact-sum.js';
import { parseInterval } from '../interval.js';
import { pyG, pyNum, pyRound } from '../pyformat.js';
import { getAggFunc, safeAvg, xffOk, type AggFn } from '../safe.js';
import type { TimeSeries } from '../time-series.js';
import { getPercentile, constant } from './combine.js';
import { INTERVAL_SUGGESTIONS, P, defineFunctions, type FnContext, type FunctionDef } from './types.js';

/** windowSize as graphite-web reads it: an int (points) or an interval string (seconds) */
function windowSeconds(list: TimeSeries[], windowSize: number | string): number {
  if (typeof windowSize === 'string') return Math.abs(parseInterval(windowSize));
  let step = Number.NEGATIVE_INFINITY; // a loop, not Math.max(...): spread arguments overflow past ~150k series
  for (const s of list) if (s.step > step) step = s.step;
  return step * Math.trunc(windowSize);
}

function windowLabel(windowSize: number | string): string {
  return typeof windowSize === 'string' ? `"${windowSize}"` : pyNum(windowSize, true);
}

/**
 * graphite-web 1.1.8's movingWindow: re-fetches the first argument starting `window` earlier,
 * then each output point aggregates the N points *before* it (the current point excluded).
 */
async function movingWindow(ctx: FnContext, list: TimeSeries[], windowSize: number | string, func: string, xFilesFactor: number | undefined): Promise<TimeSeries[]> {
  if (list.length === 0) return [];
  const agg = getAggFunc(func);
  if (!agg) throw badArgs(`Unsupported aggregation function: ${func}`);
  if (typeof windowSize === 'number' && windowSize <= 0) throw badArgs('windowSize must be positive');
  const preview = windowSeconds(list, windowSize);
  const tagName = `moving${func.charAt(0).toUpperCase()}${func.slice(1).toLowerCase()}`;
  const wide = await ctx.evaluate(ctx.rawArgs[0]!, { from: ctx.from - preview });
  return wide.map((s) => {
    ctx.checkDeadline();
    const points = typeof windowSize === 'string' ? Math.floor(preview / s.step) : Math.trunc(windowSize);
    const xff = xFilesFactor ?? s.xFilesFactor;
    const out = slidingWindow(s.values, points, func, agg, xff);
    const r = s.copy({ name: `${tagName}(${s.name},${windowLabel(windowSize)})`, start: s.start + preview, values: out });
    r.tags[tagName] = typeof windowSize === 'string' ? windowSize : String(windowSize);
    return r;
  });
}

/**
 * out[i - points] = func(non-null values of [i - points, i)), for i from `points` to the end,
 * null unless the non-null share reaches xff. Sums and averages add each window up from scratch,
 * left to right, as graphite-web does (the same float, to the last bit) while that costs at most
 * EXACT_SUM_ADDS additions; past it (a window of thousands of points over a long range) they slide
 * an exact sum (ExactSum), whose correctly rounded value may differ from graphite-web's
 * left-to-right sum in the last bits only. Min and max use a monotonic deque, the median a sorted
 * window; other functions recompute each window.
 */
export function slidingWindow(values: Float64Array, points: number, func: string, agg: AggFn, xff: number): Float64Array {
  const n = Math.max(0, values.length - points);
  const out = new Float64Array(n);
  if (n === 0 || points <= 0) return out.fill(NaN);
  // infinities, and values near overflow (an exact sum's partials could overflow), take the generic path
  const finite = values.every((v) => Number.isNaN(v) || Math.abs(v) < 1e300);
  const kind = !finite ? 'generic' : SUMS.has(func) ? 'sum' : func === 'min' || func === 'max' ? 'extreme' : 'generic';
  if (kind === 'sum') {
    const average = func !== 'sum' && func !== 'total';
    let sum = 0;
    let count = 0;
    const recompute = (from: number, to: number): void => {
      sum = 0;
      count = 0;
      for (let k = from; k < to; k++) {
        const v = values[k]!;
        if (!Number.isNaN(v)) {
          sum += v;
          count++;
        }
      }
    };
    if (n * points <= EXACT_SUM_ADDS) {
      for (let i = points; i < values.length; i++) {
        recompute(i - points, i);
        out[i - points] = count && xffOk(count, points, xff) ? (average ? sum / count : sum) : NaN;
      }
      return out;
    }
    const exact = new ExactSum();
    count = 0;
    for (let k = 0; k < points; k++) {
      const v = values[k]!;
      if (!Number.isNaN(v)) {
        exact.add(v);
        count++;
      }
    }
    for (let i = points; i < values.length; i++) {
      if (count && xffOk(count, points, xff)) {
        const total = exact.value();
        out[i - points] = average ? total / count : total;
      } else out[i - points] = NaN;
      const add = values[i]!;
      const drop = values[i - points]!;
      if (!Number.isNaN(add)) {
        exact.add(add);
        count++;
      }
      if (!Number.isNaN(drop)) {
        exact.add(-drop);
        count--;
      }
    }
    return out;
  }
  if (kind === 'extreme') {
    const better = func === 'min' ? (a: number, b: number) => a <= b : (a: number, b: number) => a >= b;
    const deque: number[] = [];
    let head = 0;
    let count = 0;
    const push = (k: number): void => {
      const v = values[k]!;
      if (Number.isNaN(v)) return;
      count++;
      while (deque.length > head && better(v, values[deque[deque.length - 1]!]!)) deque.pop();
      deque.push(k);
    };
    for (let k = 0; k < points; k++) push(k);
    for (let i = points; i < values.length; i++) {
      while (deque.length > head && deque[head]! < i - points) head++;
      out[i - points] = count && xffOk(count, points, xff) ? values[deque[head]!]! : NaN;
      push(i);
      if (!Number.isNaN(values[i - points]!)) count--;
    }
    return out;
  }
  if (func === 'median') return slidingMedian(values, points, xff, out);
  const buf: number[] = [];
  for (let i = points; i < values.length; i++) {
    buf.length = 0;
    for (let k = i - points; k < i; k++) if (!Number.isNaN(values[k]!)) buf.push(values[k]!);
    out[i - points] = buf.length && xffOk(buf.length, points, xff) ? agg(buf) : NaN;
  }
  return out;
}

/**
 * movingMedian with the window's non-null values kept sorted: each step removes the oldest and
 * inserts the newest (binary search, one copyWithin each) instead of sorting the window afresh,
 * which took 54 s for a 3,000-point window over 144,000 points. Equal values keep their window
 * order (insert after, remove the first), which is what a stable sort of the window gives, so the
 * median is the same value, bit for bit (0 and -0 included).
 */
function slidingMedian(values: Float64Array, points: number, xff: number, out: Float64Array): Float64Array {
  const sorted = new Float64Array(points);
  let count = 0;
  const lower = (v: number): number => {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upper = (v: number): number => {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const insert = (v: number): void => {
    if (Number.isNaN(v)) return;
    const at = upper(v);
    sorted.copyWithin(at + 1, at, count);
    sorted[at] = v;
    count++;
  };
  const remove = (v: number): void => {
    if (Number.isNaN(v)) return;
    const at = lower(v);
    sorted.copyWithin(at, at + 1, count);
    count--;
  };
  for (let k = 0; k < points; k++) insert(values[k]!);
  for (let i = points; i < values.length; i++) {
    const mid = count >> 1;
    out[i - points] = count && xffOk(count, points, xff) ? (count % 2 === 0 ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[mid]!) : NaN;
    remove(values[i - points]!);
    insert(values[i]!);
  }
  return out;
}

const SUMS = new Set(['average', 'avg', 'sum', 'total']);
/**
 * per series, ~1 ms of additions (a render of 1,000 series stays within a second):
 * movingAverage(x, 100) over a day at 10 s is 864,000; a window of 1h at 10 s over a day slides
 */
const EXACT_SUM_ADDS = 1_000_000;

function moving(name: string, func: string, what: string): FunctionDef {
  return {
    name,
    group: 'Calculate',
    description: `The ${what} of the previous windowSize points (a number) or of the previous interval (a string such as "5min"), excluding the current point.`,
    params: [P.seriesList(), P.req('windowSize', 'intOrInterval', { suggestions: INTERVAL_SUGGESTIONS }), P.opt('xFilesFactor', 'float')],
    call: (ctx, a) => movingWindow(ctx, a.series(), a.raw('windowSize') as number | string, func, a.optNum('xFilesFactor')),
  };
}

export const calculateFunctions = defineFunctions([
  moving('movingAverage', 'average', 'average'),
  moving('movingMedian', 'median', 'median'),
  moving('movingSum', 'sum', 'sum'),
  moving('movingMin', 'min', 'minimum'),
  moving('movingMax', 'max', 'maximum'),
  {
    name: 'movingWindow',
    group: 'Calculate',
    description: 'Applies an aggregation function (default average) over a moving window of points or time, excluding the current point.',
    params: [
      P.seriesList(),
      P.req('windowSize', 'intOrInterval', { suggestions: INTERVAL_SUGGESTIONS }),
      P.opt('func', 'aggFunc', 'average'),
      P.opt('xFilesFactor', 'float'),
    ],
    call: (ctx, a) => movingWindow(ctx, a.series(), a.raw('windowSize') as number | string, a.str('func', 'average'), a.optNum('xFilesFactor')),
  },
  {
    name: 'exponentialMovingAverage',
    group: 'Calculate',
    description: 'Exponential moving average with constant 2/(windowSize+1), seeded with the average of the first window.',
    params: [P.seriesList(), P.req('windowSize', 'intOrInterval', { suggestions: INTERVAL_SUGGESTIONS })],
    call: async (ctx, a) => {
      const list = a.series();
      if (list.length === 0) return [];
      const windowSize = a.raw('windowSize') as number | string;
      const preview = windowSeconds(list, windowSize);
      const c = typeof windowSize === 'string' ? 2 / (Math.trunc(preview) + 1) : 2 / (Math.trunc(windowSize) + 1);
      const wide = await ctx.evaluate(ctx.rawArgs[0]!, { from: ctx.from - preview });
      return wide.map((s) => {
        const points = typeof windowSize === 'string' ? Math.floor(preview / s.step) : Math.trunc(windowSize);
        const first = safeAvg(s.values.subarray(0, points));
        let ema = Number.isNaN(first) ? 0 : first;
        const out: number[] = [pyRound(ema, 6)];
        for (let i = points; i < s.length; i++) {
          const x = s.values[i]!;
          if (Number.isNaN(x)) out.push(NaN);
          else {
            ema = c * x + (1 - c) * ema;
            out.push(pyRound(ema, 6));
          }
        }
        const r = s.copy({ name: `exponentialMovingAverage(${s.name},${windowLabel(windowSize)})`, start: s.start + preview, values: Float64Array.from(out) });
        r.tags.exponentialMovingAverage = String(windowSize);
        return r;
      });
    },
  },
  {
    name: 'nPercentile',
    group: 'Calculate',
    description: 'A flat line at the n-th percentile of all the points of each series.',
    params: [P.seriesList(), P.req('n', 'float')],
    call: (_ctx, a) => {
      const n = a.num('n');
      if (!n) throw badArgs('The requested percent is required to be greater than 0');
      const out: TimeSeries[] = [];
      for (const s of a.series()) {
        const p = getPercentile(s.values, n, false);
        if (Number.isNaN(p)) continue;
        const count = Math.trunc((s.end - s.start) / s.step);
        const r = s.copy({ name: `nPercentile(${s.name}, ${pyG(n)})`, values: new Float64Array(count).fill(p) });
        r.tags.nPercentile = pyNum(n, false);
        out.push(r);
      }
      return out;
    },
  },
  {
    name: 'aggregateLine',
    group: 'Calculate',
    description: 'A flat line at an aggregate (default average) of each series; keepStep keeps the original points.',
    params: [P.seriesList(), P.opt('func', 'aggFunc', 'average'), P.opt('keepStep', 'boolean', false)],
    call: (ctx, a) => {
      const agg = getAggFunc(a.str('func', 'average'))!;
      return a.series().map((s) => {
        const v = agg(s.values);
        const name = Number.isNaN(v) ? `aggregateLine(${s.name}, None)` : `aggregateLine(${s.name}, ${pyG(v)})`;
        if (a.bool('keepStep')) return s.copy({ name, values: new Float64Array(s.length).fill(v) });
        const [line] = constant(ctx, v);
        line!.name = name;
        line!.pathExpression = name;
        return line!;
      });
    },
  },
  {
    name: 'stdev',
    group: 'Calculate',
    description: 'The standard deviation over a moving window of the given number of points; null while fewer than windowTolerance of them are non-null.',
    params: [P.seriesList(), P.req('points', 'integer'), P.opt('windowTolerance', 'float', 0.1)],
    call: (_ctx, a) => {
      const points = a.num('points');
      const tol = a.num('windowTolerance', 0.1);
      if (points <= 0) throw badArgs('stdev(): points must be positive');
      return a.series().map((s) => {
        const out = new Float64Array(s.length);
        let valid = 0;
        let sum = 0;
        let sumSq = 0;
        for (let i = 0; i < s.length; i++) {
          const x = s.values[i]!;
          if (i >= points) {
            const d = s.values[i - points]!;
            if (!Number.isNaN(d)) {
              valid--;
              sum -= d;
              sumSq -= d * d;
            }
          }
          if (!Number.isNaN(x)) {
            valid++;
            sum += x;
            sumSq += x * x;
          }
          if (valid > 0 && valid / points >= tol) {
            const q = valid * sumSq - sum * sum;
            out[i] = q < 0 ? NaN : Math.sqrt(q) / valid;
          } else out[i] = NaN;
        }
        const r = s.copy({ name: `stdev(${s.name},${Math.trunc(points)})`, values: out });
        r.tags.stdev = String(points);
        return r;
      });
    },
  },
]);
