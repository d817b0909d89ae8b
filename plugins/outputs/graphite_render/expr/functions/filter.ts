import { badArgs } from '../errors.js';
import { pyFloat, pyG } from '../pyformat.js';
import { searchAll, subAll } from '../pyregex.js';
import { getAggFunc, safeAvg, safeLen, safeMax, safeSum } from '../safe.js';
import type { TimeSeries } from '../time-series.js';
import { sortByKey, xffValues } from './common.js';
import { getPercentile } from './combine.js';
import { P, defineFunctions, type FunctionDef } from './types.js';
import { parseTarget } from '../parser.js';

const OPERATORS: Record<string, (v: number, t: number) => boolean> = {
  '=': (v, t) => !Number.isNaN(v) && v === t,
  '!=': (v, t) => Number.isNaN(v) || v !== t,
  '>': (v, t) => !Number.isNaN(v) && v > t,
  '>=': (v, t) => !Number.isNaN(v) && v >= t,
  '<': (v, t) => Number.isNaN(v) || v < t,
  '<=': (v, t) => Number.isNaN(v) || v <= t,
};

function filterSeries(list: TimeSeries[], func: string, op: string, threshold: number): TimeSeries[] {
  const agg = getAggFunc(func);
  if (!agg) throw badArgs(`Unsupported aggregation function: ${func}`);
  const test = OPERATORS[op];
  if (!test) throw badArgs(`Unsupported operator: ${op}`);
  return list.filter((s) => test(agg(s.values), threshold));
}

function thresholdFilter(name: string, func: string, op: string, what: string): FunctionDef {
  return {
    name,
    group: 'Filter Series',
    description: `Keeps the series whose ${what} is ${op === '>' ? 'above' : 'at or below'} n.`,
    params: [P.seriesList(), P.req('n', 'float')],
    call: (_ctx, a) => filterSeries(a.series(), func, op, a.num('n')),
  };
}

/** Python's `list[:n]`, as graphite-web cuts: a negative n keeps all but the last |n|. */
function pyHead<T>(list: T[], n: number): T[] {
  return list.slice(0, Math.trunc(n));
}

function topN(name: string, func: string, highest: boolean, what: string): FunctionDef {
  return {
    name,
    group: 'Filter Series',
    description: `The n series with the ${highest ? 'highest' : 'lowest'} ${what}.`,
    params: [P.seriesList(), P.req('n', 'integer')],
    call: (_ctx, a) => pyHead(sortByKey(a.series(), (s) => getAggFunc(func)!(s.values), highest), a.num('n')),
  };
}

export const filterSeriesFunctions = defineFunctions([
  {
    name: 'filterSeries',
    group: 'Filter Series',
    description: 'Keeps the series for which func(series) <operator> threshold holds; operators =, !=, >, >=, <, <=.',
    params: [P.seriesList(), P.req('func', 'aggFunc'), P.req('operator', 'string', { options: ['!=', '<', '<=', '=', '>', '>='] }), P.req('threshold', 'float')],
    call: (_ctx, a) => filterSeries(a.series(), a.str('func'), a.str('operator'), a.num('threshold')),
  },
  thresholdFilter('maximumAbove', 'max', '>', 'maximum'),
  thresholdFilter('minimumAbove', 'min', '>', 'minimum'),
  thresholdFilter('maximumBelow', 'max', '<=', 'maximum'),
  thresholdFilter('minimumBelow', 'min', '<=', 'minimum'),
  thresholdFilter('currentAbove', 'last', '>', 'last non-null value'),
  thresholdFilter('currentBelow', 'last', '<=', 'last non-null value'),
  thresholdFilter('averageAbove', 'average', '>', 'average'),
  thresholdFilter('averageBelow', 'average', '<=', 'average'),
  {
    name: 'highest',
    group: 'Filter Series',
    description: 'The n series with the highest value of func (default average); nulls rank lowest.',
    params: [P.seriesList(), P.req('n', 'integer'), P.opt('func', 'aggFunc', 'average')],
    pySignature: "(seriesList, n=1, func='average')",
    call: (_ctx, a) => pyHead(sortByKey(a.series(), (s) => getAggFunc(a.str('func', 'average'))!(s.values), true), a.num('n')),
  },
  {
    name: 'lowest',
    group: 'Filter Series',
    description: 'The n series with the lowest value of func (default average).',
    params: [P.seriesList(), P.req('n', 'integer'), P.opt('func', 'aggFunc', 'average')],
    pySignature: "(seriesList, n=1, func='average')",
    call: (_ctx, a) => pyHead(sortByKey(a.series(), (s) => getAggFunc(a.str('func', 'average'))!(s.values), false), a.num('n')),
  },
  topN('highestAverage', 'average', true, 'average'),
  topN('highestCurrent', 'last', true, 'last value'),
  topN('highestMax', 'max', true, 'maximum'),
  topN('lowestAverage', 'average', false, 'average'),
  topN('lowestCurrent', 'last', false, 'last value'),
  {
    name: 'limit',
    group: 'Filter Series',
    description: 'The first n series.',
    params: [P.seriesList(), P.req('n', 'integer')],
    call: (_ctx, a) => {
      const n = a.num('n');
      const list = a.series();
      return n >= 0 ? list.slice(0, n) : list.slice(0, Math.max(0, list.length + n));
    },
  },
  {
    name: 'exclude',
    group: 'Filter Series',
    description: 'Drops the series whose name matches the regular expression.',
    params: [P.seriesList(), P.req('pattern', 'string')],
    call: (_ctx, a) => {
      const list = a.series();
      const hit = searchAll(a.str('pattern'), list.map((s) => s.name));
      return list.filter((_s, i) => !hit[i]);
    },
  },
  {
    name: 'grep',
    group: 'Filter Series',
    description: 'Keeps only the series whose name matches the regular expression.',
    params: [P.seriesList(), P.req('pattern', 'string')],
    call: (_ctx, a) => {
      const list = a.series();
      const hit = searchAll(a.str('pattern'), list.map((s) => s.name));
      return list.filter((_s, i) => hit[i]);
    },
  },
  {
    name: 'removeEmptySeries',
    group: 'Filter Series',
    description: 'Drops series with no values (or fewer non-null values than the xFilesFactor asks for).',
    params: [P.seriesList(), P.opt('xFilesFactor', 'float')],
    call: (_ctx, a) => a.series().filter((s) => xffValues(s.values, a.optNum('xFilesFactor') ?? 0)),
  },
  {
    name: 'unique',
    group: 'Filter Series',
    description: 'Drops series whose name was already seen.',
    params: [P.seriesLists()],
    call: (_ctx, a) => {
      const seen = new Set<string>();
      return a.seriesLists().flat().filter((s) => !seen.has(s.name) && (seen.add(s.name), true));
    },
  },
  {
    name: 'mostDeviant',
    group: 'Filter Series',
    description: 'The n series with the largest standard deviation.',
    params: [P.seriesList(), P.req('n', 'integer')],
    call: (_ctx, a) => {
      const scored: TimeSeries[] = [];
      const sigma = new Map<TimeSeries, number>();
      for (const s of a.series()) {
        const mean = safeAvg(s.values);
        if (Number.isNaN(mean)) continue;
        let sq = 0;
        for (const v of s.values) if (!Number.isNaN(v)) sq += (v - mean) ** 2;
        sigma.set(s, sq / safeLen(s.values));
        scored.push(s);
      }
      return pyHead(sortByKey(scored, (s) => sigma.get(s)!, true), a.num('n'));
    },
  },
  {
    name: 'averageOutsidePercentile',
    group: 'Filter Series',
    description: 'Keeps the series whose average lies outside the n-th percentile band of all averages.',
    params: [P.seriesList(), P.req('n', 'float')],
    call: (_ctx, a) => {
      const list = a.series();
      let n = a.num('n');
      if (n < 50) n = 100 - n;
      const avgs = Float64Array.from(list, (s) => safeAvg(s.values));
      const lo = getPercentile(avgs, 100 - n, false);
      const hi = getPercentile(avgs, n, false);
      return list.filter((_s, i) => !(lo < avgs[i]! && avgs[i]! < hi));
    },
  },
  {
    name: 'removeBetweenPercentile',
    group: 'Filter Series',
    description: 'Keeps the series that leave the n-th percentile band (computed across series) at least once.',
    params: [P.seriesList(), P.req('n', 'float')],
    call: (_ctx, a) => {
      const list = a.series();
      let n = a.num('n');
      if (n < 50) n = 100 - n;
      if (list.length === 0) return [];
      let len = Number.POSITIVE_INFINITY; // a loop, not Math.min(...): spread arguments overflow past ~150k series
      for (const s of list) if (s.length < len) len = s.length;
      const lo = new Float64Array(len);
      const hi = new Float64Array(len);
      const col = new Float64Array(list.length);
      for (let i = 0; i < len; i++) {
        list.forEach((s, k) => (col[k] = s.values[i]!));
        lo[i] = getPercentile(col, 100 - n, false);
        hi[i] = getPercentile(col, n, false);
      }
      return list.filter((s) => {
        for (let i = 0; i < s.length; i++) {
          const v = s.values[i]!;
          // Python compares None as smaller than numbers; NaN comparisons are false, so nulls count as outside
          if (i >= len || !(lo[i]! < v && v < hi[i]!)) return true;
        }
        return false;
      });
    },
  },
  {
    name: 'useSeriesAbove',
    group: 'Filter Series',
    description: 'For each series whose maximum exceeds value, fetches the series named by a regex substitution of its name.',
    params: [P.seriesList(), P.req('value', 'float'), P.req('search', 'string'), P.req('replace', 'string')],
    call: async (ctx, a) => {
      const above = a.series().filter((s) => safeMax(s.values) > a.num('value'));
      const names = subAll(a.str('search'), a.str('replace'), above.map((s) => s.name));
      if (names.length === 0) return [];
      const found = await ctx.evaluate(parseTarget(`group(${names.join(',')})`));
      return found.filter((s) => s.length > 0);
    },
  },
]);

function dataFilter(name: string, description: string, keep: (v: number, threshold: number) => boolean, percentile: boolean): FunctionDef {
  return {
    name,
    group: 'Filter Data',
    description,
    params: [P.seriesList(), P.req('n', 'float')],
    call: (_ctx, a) => {
      const n = a.num('n');
      const out: TimeSeries[] = [];
      for (const s of a.series()) {
        const label = `${name}(${s.name}, ${pyG(n)})`;
        let threshold = n;
        if (percentile) {
          threshold = getPercentile(s.values, n, false);
          if (Number.isNaN(threshold)) {
            out.push(s.copy({ name: label }));
            continue;
          }
        }
        const r = s.derive(label, s.values.map((v) => (keep(v, threshold) ? v : NaN)));
        // graphite-web computes the percentile with nPercentile(), whose tag leaks onto the input
        if (percentile) r.tags.nPercentile = pyFloat(n);
        out.push(r);
      }
      return out;
    },
  };
}

export const filterDataFunctions = defineFunctions([
  dataFilter('removeAboveValue', 'Sets points above n to null.', (v, t) => Number.isNaN(v) || !(v > t), false),
  dataFilter('removeBelowValue', 'Sets points below n to null.', (v, t) => !Number.isNaN(v) && !(v < t), false),
  dataFilter('removeAbovePercentile', 'Sets points above the n-th percentile of the series to null.', (v, t) => Number.isNaN(v) || !(v > t), true),
  dataFilter('removeBelowPercentile', 'Sets points below the n-th percentile of the series to null.', (v, t) => !Number.isNaN(v) && !(v < t), true),
]);

export const sortingFunctions = defineFunctions([
  {
    name: 'sortBy',
    group: 'Sorting',
    description: 'Sorts the series by an aggregation of their values (default average), ascending unless reverse.',
    params: [P.seriesList(), P.opt('func', 'aggFunc', 'average'), P.opt('reverse', 'boolean', false)],
    call: (_ctx, a) => sortByKey(a.series(), (s) => getAggFunc(a.str('func', 'average'))!(s.values), a.bool('reverse')),
  },
  {
    name: 'sortByMaxima',
    group: 'Sorting',
    description: 'Sorts the series by their maximum, largest first.',
    params: [P.seriesList()],
    call: (_ctx, a) => sortByKey(a.series(), (s) => safeMax(s.values), true),
  },
  {
    name: 'sortByMinima',
    group: 'Sorting',
    description: 'Sorts the series by their minimum, smallest first, dropping series whose maximum is not above 0.',
    params: [P.seriesList()],
    call: (_ctx, a) => {
      const kept = a.series().filter((s) => {
        const m = safeMax(s.values);
        return (Number.isNaN(m) ? 0 : m) > 0;
      });
      return sortByKey(kept, (s) => safeMinOf(s), false);
    },
  },
  {
    name: 'sortByTotal',
    group: 'Sorting',
    description: 'Sorts the series by the sum of their values, largest first.',
    params: [P.seriesList()],
    call: (_ctx, a) => sortByKey(a.series(), (s) => safeSum(s.values), true),
  },
  {
    name: 'sortByName',
    group: 'Sorting',
    description: 'Sorts the series by name; natural sorting compares embedded numbers by value.',
    params: [P.seriesList(), P.opt('natural', 'boolean', false), P.opt('reverse', 'boolean', false)],
    call: (_ctx, a) => {
      const key = a.bool('natural') ? (s: TimeSeries) => s.name.replace(/\d+/g, (d) => String(Number(d)).padStart(10, '0')) : (s: TimeSeries) => s.name;
      const keyed = a.series().map((s, i) => ({ s, i, k: key(s) }));
      const rev = a.bool('reverse');
      keyed.sort((x, y) => {
        const d = x.k < y.k ? -1 : x.k > y.k ? 1 : 0;
        return (rev ? -d : d) || x.i - y.i;
      });
      return keyed.map((x) => x.s);
    },
  },
]);

function safeMinOf(s: TimeSeries): number {
  let m = NaN;
  for (const v of s.values) if (!Number.isNaN(v) && (Number.isNaN(m) || v < m)) m = v;
  return m;
}
