import { badArgs } from '../errors.js';
import { pyG } from '../pyformat.js';
import type { TimeSeries } from '../time-series.js';
import { constant } from './combine.js';
import { P, defineFunctions, type FunctionDef } from './types.js';

/**
 * Graph styling functions. carbonado renders JSON only, so styling is dropped; the functions
 * still exist (Grafana's editor offers them) and rename series exactly where graphite-web does.
 */
function style(name: string, description: string, params: FunctionDef['params']): FunctionDef {
  return { name, group: 'Graph', description, params: [P.seriesList(), ...params], call: (_ctx, a) => a.series() };
}

function renaming(name: string, description: string, tagValue = '1'): FunctionDef {
  return {
    name,
    group: 'Graph',
    description,
    params: [P.seriesList()],
    call: (_ctx, a) =>
      a.series().map((s) => {
        const r = s.copy({ name: `${name}(${s.name})`, pathExpression: s.pathExpression });
        r.tags[name] = tagValue;
        return r;
      }),
  };
}

/** graphite-web's areaBetween: [lower, upper] renamed after the upper one's pathExpression, sharing its tags */
export function areaBetweenPair(list: TimeSeries[]): TimeSeries[] {
  if (list.length !== 2) throw badArgs('areaBetween series argument must reference *exactly* 2 series');
  const [lower, upper] = list as [TimeSeries, TimeSeries];
  const name = `areaBetween(${upper.pathExpression})`;
  const tags = { ...upper.tags, areaBetween: '1' };
  return [lower.copy({ name, tags: { ...tags }, pathExpression: lower.pathExpression }), upper.copy({ name, tags, pathExpression: upper.pathExpression })];
}

export const graphFunctions = defineFunctions([
  style('alpha', 'Sets the opacity of the series (PNG rendering only; no effect on JSON).', [P.req('alpha', 'float')]),
  style('color', 'Sets the color of the series (PNG rendering only).', [P.req('theColor', 'string')]),
  style('lineWidth', 'Sets the line width of the series (PNG rendering only).', [P.req('width', 'float')]),
  {
    name: 'dashed',
    group: 'Graph',
    description: 'Draws the series dashed (PNG rendering only); renames it dashed(<name>, <length>).',
    params: [P.seriesList(), P.opt('dashLength', 'integer', 5)],
    call: (_ctx, a) =>
      a.series().map((s) => {
        const len = a.num('dashLength', 5);
        const r = s.copy({ name: `dashed(${s.name}, ${pyG(len)})`, pathExpression: s.pathExpression });
        r.tags.dashed = String(len);
        return r;
      }),
  },
  renaming('secondYAxis', 'Puts the series on the second Y axis (PNG rendering only); renames it secondYAxis(<name>).'),
  renaming('drawAsInfinite', 'Draws non-zero points as vertical lines (PNG rendering only); renames it drawAsInfinite(<name>).'),
  {
    name: 'stacked',
    group: 'Graph',
    description: 'Stacks the series: each point becomes the running total of the series before it at that point.',
    params: [{ ...P.seriesList(), pyName: 'seriesLists' }, P.opt('stack', 'string', undefined, { pyName: 'stackName' })],
    pySignature: "(seriesLists, stackName='__DEFAULT__')",
    call: (ctx, a) => {
      const stackName = a.optStr('stack') ?? '__DEFAULT__';
      // running totals live as long as the request: stacked(a) and stacked(b) stack on each other
      const stacks = (ctx.shared.get('stacked') as Map<string, number[]> | undefined) ?? new Map<string, number[]>();
      ctx.shared.set('stacked', stacks);
      const totals = stacks.get(stackName) ?? [];
      stacks.set(stackName, totals);
      return a.series().map((s) => {
        const v = new Float64Array(s.length);
        for (let i = 0; i < s.length; i++) {
          if (totals.length <= i) totals.push(0);
          const x = s.values[i]!;
          if (Number.isNaN(x)) v[i] = NaN;
          else v[i] = totals[i] = totals[i]! + x;
        }
        const r = s.copy({ name: stackName === '__DEFAULT__' ? `stacked(${s.name})` : s.name, values: v });
        if (stackName === '__DEFAULT__') r.tags.stacked = stackName;
        return r;
      });
    },
  },
  {
    name: 'areaBetween',
    group: 'Graph',
    description: 'Fills the area between exactly two series (PNG rendering only); both are renamed areaBetween(<pathExpression>).',
    params: [P.seriesList()],
    call: (_ctx, a) => areaBetweenPair(a.series()),
  },
  {
    name: 'threshold',
    group: 'Graph',
    description: 'A horizontal line at the given value, named by label (like constantLine).',
    params: [P.req('value', 'float'), P.opt('label', 'string'), P.opt('color', 'string')],
    call: (ctx, a) => {
      const [s] = constant(ctx, a.num('value'));
      const label = a.optStr('label');
      if (label) s!.name = label;
      return [s!];
    },
  },
]);

