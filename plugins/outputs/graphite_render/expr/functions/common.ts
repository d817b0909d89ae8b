import type { Expr } from '../ast.js';
import { ExprEvalError, badArgs } from '../errors.js';
import { normalize, row } from '../normalize.js';
import { aggregateColumns } from '../column-agg.js';
import { parseTarget } from '../parser.js';
import { getAggFunc, xffOk } from '../safe.js';
import { TimeSeries, setTag, tagValue } from '../time-series.js';
import type { FnContext } from './types.js';

/** distinct pathExpressions in order of appearance, comma-joined (names of aggregates) */
export function formatPathExpressions(list: readonly TimeSeries[]): string {
  return [...new Set(list.map((s) => s.pathExpression))].join(',');
}

/** new series with each non-null value mapped; `fn` may return NaN for null */
export function mapValues(s: TimeSeries, name: string, fn: (v: number, i: number) => number, tag?: [string, string]): TimeSeries {
  const src = s.values;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = Number.isNaN(v) ? NaN : fn(v, i);
  }
  return s.derive(name, out, tag);
}

/** fraction of non-null values of a row against the xFilesFactor (graphite-web's xffValues) */
export function xffValues(values: ArrayLike<number>, xFilesFactor: number | undefined): boolean {
  if (values.length === 0) return false;
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) n++;
  return xffOk(n, values.length, xFilesFactor ?? 0);
}

/**
 * graphite-web's aggregate(): one series from many, row by row over the normalised inputs,
 * named `<func>Series(<pathExpressions>)`; tags are those shared by all inputs plus aggregatedBy.
 */
export function aggregateSeries(ctx: FnContext, list: readonly TimeSeries[], rawFunc: string, xFilesFactor?: number): TimeSeries[] {
  const func = rawFunc.endsWith('Series') ? rawFunc.slice(0, -6) : rawFunc;
  const agg = getAggFunc(func);
  if (!agg) throw badArgs(`Unsupported aggregation function: ${rawFunc}`);
  const norm = normalize(list);
  if (!norm) return [];
  const xff = xFilesFactor ?? ctx.xFilesFactor;
  const name = `${func}Series(${formatPathExpressions(list)})`;
  let out = aggregateColumns(norm.values, norm.length, agg, xff);
  if (!out) {
    out = new Float64Array(norm.length);
    const r = new Float64Array(list.length);
    for (let i = 0; i < norm.length; i++) {
      row(norm.values, i, r);
      out[i] = xffValues(r, xff) ? agg(r) : NaN;
    }
  }
  let tags: Record<string, string> = { ...list[0]!.tags };
  for (const s of list) {
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags)) if (tagValue(s.tags, k) === v) setTag(next, k, v);
    tags = next;
  }
  if (!('name' in tags)) tags.name = name;
  tags.aggregatedBy = func;
  return [new TimeSeries({ name, start: norm.start, end: norm.end, step: norm.step, values: out, tags, xFilesFactor: xff ?? 0 })];
}

/** first path expression inside a function-wrapped name: `scale(a.b.c,2)` → `a.b.c` */
export function firstPathExpression(name: string): string | undefined {
  let e: Expr;
  try {
    e = parseTarget(name);
  } catch {
    return undefined;
  }
  for (;;) {
    if (e.type === 'path') return e.path;
    if (e.type === 'call' && e.args.length > 0) e = e.args[0]!;
    else if (e.type === 'template') e = e.inner;
    else return undefined;
  }
}

/** a path node by (possibly negative) index, else the tag of that name, else '' */
export function nodeOrTag(s: TimeSeries, n: number | string, pathExpression?: string): string {
  if (typeof n === 'number' && Number.isInteger(n)) {
    const nodes = (pathExpression ?? s.name).split(';')[0]!.split('.');
    const idx = n < 0 ? nodes.length + n : n;
    if (idx >= 0 && idx < nodes.length) return nodes[idx]!;
  }
  return tagValue(s.tags, String(n)) ?? '';
}

/** graphite-web's aggKey: the selected nodes/tags joined by '.' */
export function aggKey(s: TimeSeries, nodes: readonly (number | string)[]): string {
  const pe = s.name.endsWith(')') ? firstPathExpression(s.name) : undefined;
  return nodes.map((n) => nodeOrTag(s, n, pe)).join('.');
}

/** groups in order of first appearance */
export function groupBy(list: readonly TimeSeries[], key: (s: TimeSeries) => string): Map<string, TimeSeries[]> {
  const m = new Map<string, TimeSeries[]>();
  for (const s of list) {
    const k = key(s);
    const g = m.get(k);
    if (g) g.push(s);
    else m.set(k, [s]);
  }
  return m;
}

/**
 * runs a groupBy callback. As in graphite-web, a series function of that name wins (so "sum"
 * and "avg" run sumSeries/averageSeries, tagging aggregatedBy=average), else the aggregation function.
 */
export async function applyCallback(ctx: FnContext, group: TimeSeries[], callback: string): Promise<TimeSeries | undefined> {
  if (ctx.hasFunction(callback)) return (await ctx.call(callback, [group]))[0];
  return aggregateSeries(ctx, group, callback)[0];
}

/** sort comparator on a key where null (NaN) sorts as -Infinity, stable like Python's sort */
export function sortByKey(list: TimeSeries[], key: (s: TimeSeries) => number, reverse: boolean): TimeSeries[] {
  const keyed = list.map((s, i) => ({ s, i, k: Number.isNaN(key(s)) ? -Infinity : key(s) }));
  keyed.sort((a, b) => {
    const d = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
    return (reverse ? -d : d) || a.i - b.i;
  });
  return keyed.map((x) => x.s);
}

/** the most points one function may generate for one series (summarize("1s") over a year…) */
export const MAX_GENERATED_POINTS = 10_000_000;

/** refuses (422) before allocating a series that long */
export function checkGenerated(fn: string, n: number): void {
  if (!(n <= MAX_GENERATED_POINTS)) {
    throw new ExprEvalError(`${fn}() would generate ${Math.round(n)} points for one series, more than ${MAX_GENERATED_POINTS}: use a larger interval or a shorter range`, 422);
  }
}
