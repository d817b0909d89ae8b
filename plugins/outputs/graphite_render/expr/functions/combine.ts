import { codePointCompare } from '../../../../../core/index.js';
import { badArgs } from '../errors.js';
import { normalize, row } from '../normalize.js';
import { pyG, pyNum } from '../pyformat.js';
import { safeDiv, safeSum } from '../safe.js';
import { TimeSeries, tagValue, tagsFromName } from '../time-series.js';
import { aggKey, aggregateSeries, applyCallback, formatPathExpressions, groupBy } from './common.js';
import { P, defineFunctions, type FnContext, type FunctionDef } from './types.js';

/** the *Series family: all arguments flattened into one list, then aggregate() */
function seriesAggregator(name: string, func: string, description: string, aliases?: string[]): FunctionDef {
  return {
    name,
    group: 'Combine',
    description,
    params: [P.seriesLists()],
    aggregator: true,
    ...(aliases ? { aliases } : {}),
    call: (ctx, a) => aggregateSeries(ctx, a.seriesLists().flat(), func),
  };
}

function withWildcards(name: string, func: string): FunctionDef {
  return {
    name,
    group: 'Combine',
    description: `Groups series whose names are equal once the given node positions are removed, and combines each group with ${func}.`,
    params: [P.seriesList(), P.many('position', 'node')],
    aggregator: true,
    call: (ctx, a) => aggregateWithWildcards(ctx, a.series(), func, a.list<number>('position')),
  };
}

function aggregateWithWildcards(ctx: FnContext, list: TimeSeries[], func: string, positions: number[]): TimeSeries[] {
  const groups = groupBy(list, (s) =>
    s.name
      .split('.')
      .filter((_, i) => !positions.includes(i))
      .join('.'),
  );
  const out: TimeSeries[] = [];
  for (const [key, g] of groups) {
    const r = aggregateSeries(ctx, g, func)[0];
    if (r) {
      r.name = key;
      out.push(r);
    }
  }
  return out;
}

function pairwise(name: string, func: string): FunctionDef {
  return {
    name,
    group: 'Combine',
    description: `Combines the two lists position by position with ${func}: first[0] with second[0], and so on.`,
    params: [P.seriesList('seriesListFirstPos'), P.seriesList('seriesListSecondPos')],
    aggregator: true,
    call: (ctx, a) => aggregateSeriesLists(ctx, a.series('seriesListFirstPos'), a.series('seriesListSecondPos'), func),
  };
}

function aggregateSeriesLists(ctx: FnContext, first: TimeSeries[], second: TimeSeries[], func: string, xff?: number): TimeSeries[] {
  if (first.length !== second.length) throw badArgs('seriesListFirstPos and seriesListSecondPos argument must have equal length');
  const out: TimeSeries[] = [];
  for (let i = 0; i < first.length; i++) {
    const r = aggregateSeries(ctx, [first[i]!, second[i]!], func, xff)[0];
    if (!r) continue;
    r.name = `${r.name.slice(0, r.name.indexOf('Series('))}Series(${first[i]!.name},${second[i]!.name})`;
    out.push(r);
  }
  return out;
}

/** two series combined by index after normalisation (divideSeries, asPercent) */
function combineTwo(ctx: FnContext, a: TimeSeries, b: TimeSeries, name: string, f: (x: number, y: number) => number): TimeSeries {
  const norm = normalize([a, b])!;
  const out = new Float64Array(norm.length);
  const r = new Float64Array(2);
  for (let i = 0; i < norm.length; i++) {
    row(norm.values, i, r);
    out[i] = f(r[0]!, r[1]!);
  }
  return new TimeSeries({ name, start: norm.start, end: norm.end, step: norm.step, values: out, xFilesFactor: ctx.xFilesFactor ?? 0 });
}

const percent = (x: number, y: number): number => {
  const q = safeDiv(x, y);
  return Number.isNaN(q) ? NaN : q * 100;
};

/** sum of a group by index after normalisation, named sumSeries(<pathExpressions>) */
function sumGroup(ctx: FnContext, g: TimeSeries[]): TimeSeries {
  if (g.length === 1) return g[0]!;
  const norm = normalize(g)!;
  const out = new Float64Array(norm.length);
  const r = new Float64Array(g.length);
  for (let i = 0; i < norm.length; i++) out[i] = safeSum(row(norm.values, i, r));
  return new TimeSeries({ name: `sumSeries(${formatPathExpressions(g)})`, start: norm.start, end: norm.end, step: norm.step, values: out, xFilesFactor: ctx.xFilesFactor ?? 0 });
}

function asPercent(ctx: FnContext, list: TimeSeries[], total: unknown, nodes: (number | string)[]): TimeSeries[] {
  const xff = ctx.xFilesFactor ?? 0;
  if (nodes.length > 0) {
    const groups = groupBy(list, (s) => aggKey(s, nodes));
    const keys = [...groups.keys()];
    const totals = new Map<string, TimeSeries>();
    if (total === null || total === undefined) {
      for (const [k, g] of groups) totals.set(k, sumGroup(ctx, g));
    } else if (Array.isArray(total)) {
      const tg = groupBy(total as TimeSeries[], (s) => aggKey(s, nodes));
      for (const [k, g] of tg) {
        if (!groups.has(k)) keys.push(k);
        totals.set(k, sumGroup(ctx, g));
      }
    } else {
      throw badArgs('total must be None or a seriesList');
    }
    const out: TimeSeries[] = [];
    for (const k of keys) {
      const g = groups.get(k);
      const t = totals.get(k);
      if (!g) {
        out.push(new TimeSeries({ name: `asPercent(MISSING,${t!.name})`, start: t!.start, end: t!.end, step: t!.step, values: new Float64Array(t!.length).fill(NaN), xFilesFactor: xff }));
        continue;
      }
      for (const s of g) {
        if (!t) out.push(new TimeSeries({ name: `asPercent(${s.name},MISSING)`, start: s.start, end: s.end, step: s.step, values: new Float64Array(s.length).fill(NaN), xFilesFactor: xff }));
        else out.push(combineTwo(ctx, s, t, `asPercent(${s.name},${t.name})`, percent));
      }
    }
    return out;
  }
  if (list.length === 0) return [];
  if (Array.isArray(total)) {
    const tl = total as TimeSeries[];
    if (tl.length !== 1 && tl.length !== list.length) {
      throw badArgs('asPercent second argument must be missing, a single digit, reference exactly 1 series or reference the same number of series as the first argument');
    }
    if (tl.length === list.length && tl.length !== 1) {
      const a = [...list].sort(byName);
      const b = [...tl].sort(byName);
      return a.map((s, i) => combineTwo(ctx, s, b[i]!, `asPercent(${s.name},${b[i]!.name})`, percent));
    }
    if (list.length === 1) return [combineTwo(ctx, list[0]!, tl[0]!, `asPercent(${list[0]!.name},${tl[0]!.name})`, percent)];
    const t = tl[0]!;
    return list.map((s) => percentOf(s, t.values, t.name, xff));
  }
  if (total === null || total === undefined) {
    const norm = normalize(list)!;
    const tv = new Float64Array(norm.length);
    const r = new Float64Array(list.length);
    for (let i = 0; i < norm.length; i++) tv[i] = safeSum(row(norm.values, i, r));
    return list.map((s) => percentOf(s, tv, `sumSeries(${formatPathExpressions(list)})`, xff));
  }
  const n = typeof total === 'number' ? total : Number(total);
  if (Number.isNaN(n)) throw badArgs('asPercent total must be a number or a series list');
  const label = typeof total === 'number' ? pyNum(total, Number.isInteger(total)) : String(total);
  return list.map((s) => percentOf(s, new Float64Array(s.length).fill(n), label, xff));
}

/** graphite-web divides a series by a total of possibly other length, by index, without re-gridding */
function percentOf(s: TimeSeries, totals: Float64Array, totalText: string, xff: number): TimeSeries {
  const len = Math.max(s.length, totals.length);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = percent(i < s.length ? s.values[i]! : NaN, i < totals.length ? totals[i]! : NaN);
  return new TimeSeries({ name: `asPercent(${s.name},${totalText || s.pathExpression})`, start: s.start, end: s.end, step: s.step, values: out, xFilesFactor: xff });
}

const byName = (a: TimeSeries, b: TimeSeries): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function groupByNodes(ctx: FnContext, list: TimeSeries[], callback: string, nodes: (number | string)[]): Promise<TimeSeries[]> {
  const groups = groupBy(list, (s) => aggKey(s, nodes));
  const out: TimeSeries[] = [];
  for (const [key, g] of groups) {
    const r = await applyCallback(ctx, g, callback);
    if (!r) continue;
    r.name = key;
    out.push(r);
  }
  return out;
}

function percentile(points: ArrayLike<number>, n: number, interpolate: boolean): number {
  const xs: number[] = [];
  for (let i = 0; i < points.length; i++) if (!Number.isNaN(points[i]!)) xs.push(points[i]!);
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  const fractionalRank = (n / 100) * (xs.length + 1);
  let rank = Math.trunc(fractionalRank);
  const rankFraction = fractionalRank - rank;
  if (!interpolate) rank += Math.ceil(rankFraction);
  let p: number;
  if (rank === 0) p = xs[0]!;
  else if (rank - 1 === xs.length) p = xs[xs.length - 1]!;
  else p = xs[rank - 1]!;
  if (interpolate && rank !== xs.length) p = p + rankFraction * (xs[rank]! - p);
  return p;
}

export { percentile as getPercentile };

export const combineFunctions = defineFunctions([
  {
    name: 'aggregate',
    group: 'Combine',
    description: 'Combines all series into one with the given aggregation function (average, median, sum, min, max, diff, stddev, count, range, multiply, last, avg_zero).',
    params: [P.seriesList(), P.req('func', 'aggFunc'), P.opt('xFilesFactor', 'float')],
    call: (ctx, a) => aggregateSeries(ctx, a.series(), a.str('func'), a.optNum('xFilesFactor')),
  },
  {
    name: 'aggregateSeriesLists',
    group: 'Combine',
    description: 'Combines two lists of equal length position by position with an aggregation function.',
    params: [P.seriesList('seriesListFirstPos'), P.seriesList('seriesListSecondPos'), P.req('func', 'aggFunc'), P.opt('xFilesFactor', 'float')],
    call: (ctx, a) => aggregateSeriesLists(ctx, a.series('seriesListFirstPos'), a.series('seriesListSecondPos'), a.str('func'), a.optNum('xFilesFactor')),
  },
  {
    name: 'aggregateWithWildcards',
    group: 'Combine',
    description: 'Groups series whose names are equal once the given node positions are removed, and aggregates each group.',
    params: [P.seriesList(), P.req('func', 'aggFunc'), P.many('position', 'node')],
    pySignature: '(seriesList, func, *positions)',
    call: (ctx, a) => aggregateWithWildcards(ctx, a.series(), a.str('func'), a.list<number>('position')),
  },
  seriesAggregator('sumSeries', 'sum', 'Adds the series together point by point (nulls ignored).', ['sum']),
  seriesAggregator('averageSeries', 'average', 'Averages the series point by point (nulls ignored).', ['avg']),
  seriesAggregator('diffSeries', 'diff', 'Subtracts the second and later series from the first, point by point (nulls ignored).'),
  seriesAggregator('maxSeries', 'max', 'The largest value of all series at each point.'),
  seriesAggregator('minSeries', 'min', 'The smallest value of all series at each point.'),
  seriesAggregator('stddevSeries', 'stddev', 'The population standard deviation across the series at each point.'),
  seriesAggregator('rangeOfSeries', 'rangeOf', 'The difference between the largest and smallest value at each point.'),
  {
    name: 'multiplySeries',
    group: 'Combine',
    description: 'Multiplies the series point by point; a null anywhere makes the product null.',
    params: [P.seriesLists()],
    aggregator: true,
    call: (ctx, a) => {
      const lists = a.seriesLists();
      if (lists.length === 1 && lists[0]!.length === 1) return lists[0]!;
      return aggregateSeries(ctx, lists.flat(), 'multiply');
    },
  },
  withWildcards('sumSeriesWithWildcards', 'sum'),
  withWildcards('averageSeriesWithWildcards', 'average'),
  withWildcards('multiplySeriesWithWildcards', 'multiply'),
  pairwise('sumSeriesLists', 'sum'),
  pairwise('diffSeriesLists', 'diff'),
  pairwise('multiplySeriesLists', 'multiply'),
  {
    name: 'countSeries',
    group: 'Combine',
    description: 'The number of series given, as a series (constant 0 when there are none).',
    params: [P.seriesLists('seriesLists', false)],
    aggregator: true,
    call: (ctx, a) => {
      const lists = a.seriesLists();
      const list = lists.flat();
      const norm = normalize(list);
      if (lists.length > 0 && !norm) return [];
      if (!norm) {
        const [s] = constant(ctx, 0, false);
        s!.pathExpression = 'countSeries()';
        return [s!];
      }
      const name = `countSeries(${formatPathExpressions(list)})`;
      return [new TimeSeries({ name, start: norm.start, end: norm.end, step: norm.step, values: new Float64Array(norm.length).fill(list.length), xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  },
  {
    name: 'divideSeries',
    group: 'Combine',
    description: 'Divides each series by one divisor series, point by point; division by zero or null gives null.',
    params: [P.seriesList('dividendSeriesList'), P.seriesList('divisorSeries')],
    call: (ctx, a) => {
      const dividends = a.series('dividendSeriesList');
      const divisor = a.series('divisorSeries');
      if (divisor.length === 0) {
        return dividends.map((s) => s.derive(`divideSeries(${s.name},MISSING)`, new Float64Array(s.length).fill(NaN)));
      }
      if (divisor.length > 1) throw badArgs(`divideSeries second argument must reference exactly 1 series (got ${divisor.length})`);
      const d = divisor[0]!;
      return dividends.map((s) => combineTwo(ctx, s, d, `divideSeries(${s.name},${d.name})`, safeDiv));
    },
  },
  {
    name: 'divideSeriesLists',
    group: 'Combine',
    description: 'Divides the first list by the second, position by position.',
    params: [P.seriesList('dividendSeriesList'), P.seriesList('divisorSeriesList')],
    call: (ctx, a) => {
      const x = a.series('dividendSeriesList');
      const y = a.series('divisorSeriesList');
      if (x.length !== y.length) throw badArgs('dividendSeriesList and divisorSeriesList argument must have equal length');
      return x.map((s, i) => combineTwo(ctx, s, y[i]!, `divideSeries(${s.name},${y[i]!.name})`, safeDiv));
    },
  },
  {
    name: 'asPercent',
    group: 'Combine',
    description:
      'Each series as a percentage of a total: the sum of all series (default), a single total series, a list of totals matched by name, or a number. With nodes, series and totals are grouped by those nodes first.',
    params: [P.seriesList(), P.opt('total', 'any'), P.many('nodes', 'nodeOrTag')],
    aggregator: true,
    aliases: ['pct'],
    call: (ctx, a) => asPercent(ctx, a.series(), a.raw('total'), a.list<number | string>('nodes')),
  },
  {
    name: 'group',
    group: 'Combine',
    description: 'Concatenates several series lists into one.',
    params: [P.seriesLists('seriesLists', false)],
    call: (_ctx, a) => a.seriesLists().flat(),
  },
  {
    name: 'groupByNode',
    group: 'Combine',
    description: 'Groups series by one node of their name (or a tag) and combines each group with the callback.',
    params: [P.req('seriesList', 'seriesList'), P.req('nodeNum', 'nodeOrTag'), P.opt('callback', 'aggOrSeriesFunc', 'average')],
    call: (ctx, a) => groupByNodes(ctx, a.series(), a.str('callback', 'average'), [a.raw('nodeNum') as number | string]),
  },
  {
    name: 'groupByNodes',
    group: 'Combine',
    description: 'Groups series by several nodes of their name (or tags), joined by ".", and combines each group with the callback.',
    params: [P.seriesList(), P.req('callback', 'aggOrSeriesFunc'), P.many('nodes', 'nodeOrTag')],
    call: (ctx, a) => groupByNodes(ctx, a.series(), a.str('callback'), a.list<number | string>('nodes')),
  },
  {
    name: 'groupByTags',
    group: 'Combine',
    description: 'Groups tagged series by the values of the given tags and combines each group with the callback; results are named like tagged series.',
    params: [P.seriesList(), P.req('callback', 'aggOrSeriesFunc'), P.many('tags', 'tag', true)],
    call: async (ctx, a) => {
      const list = a.series();
      const callback = a.str('callback');
      const tags = a.list<string>('tags');
      if (tags.length === 0) throw badArgs('groupByTags(): no tags specified');
      const byName = !tags.includes('name');
      const names = new Set(list.map((s) => s.tags.name));
      const common = names.size === 1 ? [...names][0]! : callback;
      const groups = groupBy(list, (s) => {
        const parts = (byName ? tags : tags.filter((t) => t !== 'name')).map((t) => `${t}=${tagValue(s.tags, t) ?? ''}`).sort(codePointCompare);
        return [byName ? common : s.tags.name!, ...parts].join(';');
      });
      const out: TimeSeries[] = [];
      for (const [key, g] of groups) {
        const r = await applyCallback(ctx, g, callback);
        if (!r) continue;
        r.name = key;
        r.pathExpression = key;
        r.tags = tagsFromName(key);
        out.push(r);
      }
      return out;
    },
  },
  {
    name: 'percentileOfSeries',
    group: 'Combine',
    description: 'The n-th percentile across all series at each point; without interpolate the result is always one of the input values.',
    params: [P.seriesList(), P.req('n', 'float'), P.opt('interpolate', 'boolean', false)],
    call: (ctx, a) => {
      const n = a.num('n');
      if (n <= 0) throw badArgs('The requested percent is required to be greater than 0');
      const list = a.series();
      if (list.length === 0) return [];
      const norm = normalize(list)!;
      const out = new Float64Array(norm.length);
      const r = new Float64Array(list.length);
      for (let i = 0; i < norm.length; i++) out[i] = percentile(row(norm.values, i, r), n, a.bool('interpolate'));
      const name = `percentileOfSeries(${list[0]!.pathExpression},${pyG(n)})`;
      return [new TimeSeries({ name, start: norm.start, end: norm.end, step: norm.step, values: out, xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  },
  {
    name: 'powSeries',
    group: 'Combine',
    description: 'Raises the first series to the power of the second, the result to the third, and so on, point by point.',
    params: [{ name: 'seriesList', type: 'seriesList', required: true, multiple: true }],
    pySignature: '(*seriesLists)',
    aggregator: true,
    call: (ctx, a) => {
      const list = a.list<TimeSeries[]>('seriesList').flat();
      const norm = normalize(list);
      if (!norm) return [];
      const out = new Float64Array(norm.length);
      const r = new Float64Array(list.length);
      for (let i = 0; i < norm.length; i++) {
        row(norm.values, i, r);
        let acc = r[0]!;
        for (let k = 1; k < r.length; k++) acc = Number.isNaN(acc) || Number.isNaN(r[k]!) ? NaN : powOrNull(acc, r[k]!);
        out[i] = acc;
      }
      return [new TimeSeries({ name: `powSeries(${list.map((s) => s.name).join(',')})`, start: norm.start, end: norm.end, step: norm.step, values: out, xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  },
  {
    name: 'weightedAverage',
    group: 'Combine',
    description: 'The average of the first list weighted by the second; series are paired by the given nodes.',
    params: [P.seriesList('seriesListAvg'), P.seriesList('seriesListWeight'), P.many('nodes', 'nodeOrTag')],
    call: (ctx, a) => {
      const avgs = a.series('seriesListAvg');
      const weights = a.series('seriesListWeight');
      const nodes = a.list<number | string>('nodes');
      if (avgs.length !== weights.length) {
        throw badArgs(`weightedAverage must receive the same number of series for seriesListAvg and seriesListWeight but received respectively ${avgs.length} and ${weights.length}`);
      }
      const pairs = new Map<string, { avg?: TimeSeries; weight?: TimeSeries }>();
      for (let i = 0; i < avgs.length; i++) {
        const ka = aggKey(avgs[i]!, nodes);
        pairs.set(ka, { ...pairs.get(ka), avg: avgs[i]! });
        const kw = aggKey(weights[i]!, nodes);
        pairs.set(kw, { ...pairs.get(kw), weight: weights[i]! });
      }
      const products: TimeSeries[] = [];
      for (const { avg, weight } of pairs.values()) {
        if (!avg || !weight) continue;
        const len = Math.max(avg.length, weight.length);
        const v = new Float64Array(len);
        for (let i = 0; i < len; i++) v[i] = (avg.values[i] ?? NaN) * (weight.values[i] ?? NaN);
        products.push(new TimeSeries({ name: `product(${weight.name},${avg.name})`, start: avg.start, end: avg.end, step: avg.step, values: v, xFilesFactor: ctx.xFilesFactor ?? 0 }));
      }
      if (products.length === 0) return [];
      const sp = aggregateSeries(ctx, products, 'sum')[0]!;
      const sw = aggregateSeries(ctx, weights, 'sum')[0]!;
      const len = Math.max(sp.length, sw.length);
      const v = new Float64Array(len);
      for (let i = 0; i < len; i++) v[i] = safeDiv(sp.values[i] ?? NaN, sw.values[i] ?? NaN);
      const names = (l: TimeSeries[]): string => [...new Set(l.map((s) => s.pathExpression))].sort().join(',');
      const name = `weightedAverage(${names(avgs)}, ${names(weights)}, ${nodes.map(String).join(',')})`;
      return [new TimeSeries({ name, start: sp.start, end: sp.end, step: sp.step, values: v, xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  },
]);

function powOrNull(a: number, b: number): number {
  const r = Math.pow(a, b);
  return Number.isFinite(r) ? r : NaN;
}

/** constantLine's shape: three points at start, middle and end of the request */
export function constant(ctx: FnContext, value: number, asFloat = true): TimeSeries[] {
  const start = Math.trunc(ctx.from);
  const end = Math.trunc(ctx.until);
  const step = Math.trunc((end - start) / 2) || 1;
  // NaN here is Python's None (aggregateLine of a series without values): str(None)
  const label = Number.isNaN(value) ? 'None' : asFloat ? pyNum(value, false) : pyNum(value, true);
  const s = new TimeSeries({ name: label, start, end, step, values: new Float64Array([value, value, value]), xFilesFactor: ctx.xFilesFactor ?? 0 });
  s.pathExpression = `constantLine(${label})`;
  return [s];
}
