import { badArgs } from '../errors.js';
import { CONSOLIDATION_FUNCS, TimeSeries, type ConsolidationFunc } from '../time-series.js';
import { pyFloat } from '../pyformat.js';
import { substrName } from './alias.js';
import { constant } from './combine.js';
import { generator } from './transform.js';
import { P, defineFunctions } from './types.js';

export const specialFunctions = defineFunctions([
  {
    name: 'constantLine',
    group: 'Special',
    description: 'A horizontal line at the given value across the requested range (Grafana renders constantLine(100) to test a data source).',
    params: [P.req('value', 'float')],
    call: (ctx, a) => constant(ctx, a.num('value')),
  },
  {
    name: 'consolidateBy',
    group: 'Special',
    description: 'Sets how points are merged when the response has more points than maxDataPoints (and when steps differ): sum, average, avg_zero, min, max, first or last.',
    params: [P.seriesList(), P.req('consolidationFunc', 'string', { options: ['average', 'avg', 'avg_zero', 'first', 'last', 'max', 'min', 'sum'] })],
    call: (_ctx, a) => consolidateBy(a.series(), a.str('consolidationFunc')),
  },
  {
    name: 'cumulative',
    group: 'Special',
    description: 'Same as consolidateBy(series, "sum").',
    params: [P.seriesList()],
    call: (_ctx, a) => consolidateBy(a.series(), 'sum'),
  },
  {
    name: 'changed',
    group: 'Special',
    description: '1 where the value differs from the previous non-null value, else 0.',
    params: [P.seriesList()],
    call: (_ctx, a) =>
      a.series().map((s) => {
        const v = new Float64Array(s.length);
        let prev = NaN;
        let seen = false;
        for (let i = 0; i < s.length; i++) {
          const x = s.values[i]!;
          if (!seen || Number.isNaN(prev)) {
            prev = x;
            seen = true;
            v[i] = 0;
          } else if (!Number.isNaN(x) && prev !== x) {
            v[i] = 1;
            prev = x;
          } else v[i] = 0;
        }
        return s.derive(`changed(${s.name})`, v);
      }),
  },
  {
    name: 'fallbackSeries',
    group: 'Special',
    description: 'The series list if it is not empty, otherwise the fallback.',
    params: [P.seriesList(), P.seriesList('fallback')],
    call: (_ctx, a) => (a.series().length > 0 ? a.series() : a.series('fallback')),
  },
  {
    name: 'setXFilesFactor',
    group: 'Special',
    description: 'Sets the share of non-null points (0..1) needed for a consolidated or aggregated point to be non-null, for these series and the rest of the request.',
    params: [P.seriesList(), P.req('xFilesFactor', 'float')],
    aliases: ['xFilesFactor'],
    call: (ctx, a) => {
      const x = a.num('xFilesFactor');
      if (!(x >= 0 && x <= 1)) throw badArgs('xFilesFactor must be between 0 and 1');
      ctx.xFilesFactor = x;
      return a.series().map((s) => {
        const r = s.copy({ xFilesFactor: x, pathExpression: s.pathExpression });
        r.tags.xFilesFactor = pyFloat(x);
        return r;
      });
    },
  },
  {
    name: 'substr',
    group: 'Special',
    description: 'Renames each series to a slice of its path nodes, from start up to (not including) stop.',
    params: [P.seriesList(), P.opt('start', 'node', 0), P.opt('stop', 'node', 0)],
    call: (_ctx, a) => a.series().map((s) => s.copy({ name: substrName(s.name, a.num('start', 0), a.num('stop', 0)), pathExpression: s.pathExpression })),
  },
  {
    name: 'identity',
    group: 'Calculate',
    description: 'A series whose value is its own timestamp, one point per minute.',
    params: [P.req('name', 'string')],
    call: (ctx, a) => {
      const start = Math.trunc(ctx.from);
      const end = Math.trunc(ctx.until);
      const n = Math.max(0, Math.ceil((end - start) / 60));
      ctx.generate('identity', n);
      const name = a.str('name');
      const s = new TimeSeries({ name, start, end, step: 60, values: Float64Array.from({ length: n }, (_, i) => start + i * 60), xFilesFactor: ctx.xFilesFactor ?? 0 });
      s.pathExpression = `identity("${name}")`;
      return [s];
    },
  },
  generator('randomWalkFunction', 'randomWalk', 'Special', 'A random walk starting at 0, one point per step seconds (for testing).', [], (_t, i, _amp, prev) => (i === 0 ? 0 : prev + Math.random() - 0.5)),
  {
    name: 'events',
    group: 'Special',
    description: 'Counts the events (annotations) carrying all the given tags per second of the range; "*" means every event.',
    params: [P.many('tags', 'string', true)],
    call: async (ctx, a) => {
      const tags = a.list<string>('tags');
      const name = `events("${tags.join('", "')}")`;
      const start = Math.trunc(ctx.from);
      const end = Math.trunc(ctx.until);
      const points = Math.max(0, end - start);
      ctx.generate('events', points);
      const values = new Float64Array(points).fill(NaN);
      if (ctx.events) {
        const all = tags.length === 1 && tags[0] === '*';
        const found = await ctx.events.queryEvents({ from: start, until: end, ...(all ? {} : { tags, tagMatch: 'all' as const }) });
        for (const e of found) {
          const i = Math.floor(e.when) - start;
          if (i < 0 || i >= points) continue;
          values[i] = Number.isNaN(values[i]!) ? 1 : values[i]! + 1;
        }
      }
      return [new TimeSeries({ name, start, end, step: 1, values, consolidationFunc: 'sum', xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  },
]);

function consolidateBy(list: TimeSeries[], func: string): TimeSeries[] {
  const cf = (func === 'avg' ? 'average' : func) as ConsolidationFunc;
  if (!CONSOLIDATION_FUNCS.includes(cf)) throw badArgs(`Invalid consolidation function: '${func}'`);
  return list.map((s) => {
    const r = s.copy({ name: `consolidateBy(${s.name},"${func}")`, consolidationFunc: cf });
    r.tags.consolidateBy = func;
    return r;
  });
}
