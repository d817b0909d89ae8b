/**
 * graphite-web's aggregation functions over value arrays where NaN is null
 * (functions/safe.py and aggfuncs.py semantics): nulls are skipped; the result is NaN (null)
 * when nothing is left, except `count` (0) and `avg_zero` (nulls count as zeros).
 */
export type Values = ArrayLike<number>;
export type AggFn = (values: Values) => number;

function nonNull(v: Values): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x)) out.push(x);
  }
  return out;
}

export function safeSum(v: Values): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x)) {
      s += x;
      n++;
    }
  }
  return n ? s : NaN;
}

export function safeLen(v: Values): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isNaN(v[i]!)) n++;
  return n;
}

export function safeAvg(v: Values): number {
  const n = safeLen(v);
  return n ? safeSum(v) / n : NaN;
}

export function safeAvgZero(v: Values): number {
  if (v.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x)) s += x;
  }
  return s / v.length;
}

export function safeMedian(v: Values): number {
  const xs = nonNull(v).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 === 0 ? (xs[mid - 1]! + xs[mid]!) / 2 : xs[mid]!;
}

export function safeMin(v: Values): number {
  let m = NaN;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x) && (Number.isNaN(m) || x < m)) m = x;
  }
  return m;
}

export function safeMax(v: Values): number {
  let m = NaN;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x) && (Number.isNaN(m) || x > m)) m = x;
  }
  return m;
}

/** first non-null minus all the other non-null values */
export function safeDiff(v: Values): number {
  const xs = nonNull(v);
  if (xs.length === 0) return NaN;
  let d = xs[0]!;
  for (let i = 1; i < xs.length; i++) d -= xs[i]!;
  return d;
}

/** population standard deviation */
export function safeStdDev(v: Values): number {
  const xs = nonNull(v);
  if (xs.length === 0) return NaN;
  const avg = xs.reduce((a, b) => a + b, 0) / xs.length;
  let s = 0;
  for (const x of xs) s += (x - avg) * (x - avg);
  return Math.sqrt(s / xs.length);
}

export function safeLast(v: Values): number {
  for (let i = v.length - 1; i >= 0; i--) if (!Number.isNaN(v[i]!)) return v[i]!;
  return NaN;
}

/** any null makes the product null */
export function safeMul(v: Values): number {
  if (v.length === 0) return NaN;
  let p = 1;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isNaN(x)) return NaN;
    p *= x;
  }
  return p;
}

export function safeRange(v: Values): number {
  return safeMax(v) - safeMin(v);
}

export function safeDiv(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || b === 0) return NaN;
  return a / b;
}

/** math.pow that yields null where Python raises (negative base with fractional exponent, overflow) */
export function safePow(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (a === 0 && b < 0) return NaN;
  const r = Math.pow(a, b);
  return Number.isFinite(r) || !Number.isFinite(a) ? r : NaN;
}

const AGG: Record<string, AggFn> = {
  average: safeAvg,
  avg_zero: safeAvgZero,
  median: safeMedian,
  sum: safeSum,
  min: safeMin,
  max: safeMax,
  diff: safeDiff,
  stddev: safeStdDev,
  count: safeLen,
  range: safeRange,
  multiply: safeMul,
  last: safeLast,
  // aliases
  rangeOf: safeRange,
  avg: safeAvg,
  total: safeSum,
  current: safeLast,
};

/** aggregation function names graphite-web accepts (canonical first, then aliases) */
export const AGG_FUNC_NAMES: readonly string[] = Object.keys(AGG);

/** `sumSeries`-style deprecated spellings are accepted too */
export function getAggFunc(name: string): AggFn | undefined {
  if (Object.hasOwn(AGG, name)) return AGG[name];
  if (name.endsWith('Series') && Object.hasOwn(AGG, name.slice(0, -6))) return AGG[name.slice(0, -6)];
  return undefined;
}

/** true when nonNull/total reaches the xFilesFactor (and something is non-null) */
export function xffOk(nonNullCount: number, total: number, xFilesFactor: number): boolean {
  if (!nonNullCount || !total) return false;
  return nonNullCount / total >= xFilesFactor;
}
