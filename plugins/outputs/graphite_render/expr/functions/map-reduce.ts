import { ExprParseError, badArgs } from '../errors.js';
import { parseTarget } from '../parser.js';
import type { TimeSeries } from '../time-series.js';
import { aggKey, groupBy } from './common.js';
import { P, defineFunctions } from './types.js';

export const mapReduceFunctions = defineFunctions([
  {
    name: 'mapSeries',
    group: 'Combine',
    description: 'Splits the list into groups sharing the given nodes (a list of lists, for reduceSeries).',
    params: [P.seriesList(), P.many('mapNodes', 'nodeOrTag', true)],
    aliases: ['map'],
    call: (_ctx, a) => [...groupBy(a.series(), (s) => aggKey(s, a.list<number | string>('mapNodes'))).values()] as unknown as TimeSeries[],
  },
  {
    name: 'reduceSeries',
    group: 'Combine',
    description:
      'For each group from mapSeries, picks the series whose node reduceNode equals each matcher, in matcher order, and passes them to reduceFunction (e.g. asPercent, divideSeries). Results are named <prefix>.reduce.<function>.',
    params: [P.req('seriesLists', 'seriesLists'), P.req('reduceFunction', 'string'), P.req('reduceNode', 'node'), P.many('reduceMatchers', 'string', true)],
    aliases: ['reduce'],
    call: async (ctx, a) => {
      const raw = a.raw('seriesLists') as unknown[];
      const lists: TimeSeries[][] = raw.length > 0 && !Array.isArray(raw[0]) ? [raw as TimeSeries[]] : (raw as TimeSeries[][]);
      const fn = a.str('reduceFunction');
      const node = a.num('reduceNode');
      const matchers = a.list<string>('reduceMatchers');
      const groups = new Map<string, (TimeSeries | undefined)[]>();
      for (const list of lists) {
        for (const s of list) {
          const nodes = s.name.split('.');
          const idx = node < 0 ? nodes.length + node : node;
          const key = `${nodes.slice(0, idx).join('.')}.reduce.${fn}`;
          const m = matchers.indexOf(nodes[idx] ?? '');
          if (m < 0) continue;
          const g = groups.get(key) ?? new Array<TimeSeries | undefined>(matchers.length).fill(undefined);
          g[m] = s;
          groups.set(key, g);
        }
      }
      const out: TimeSeries[] = [];
      for (const [key, g] of groups) {
        if (g.some((s) => s === undefined)) throw badArgs(`reduceSeries(): ${key} lacks a series for every matcher`);
        const r = (await ctx.call(fn, g.map((s) => [s!])))[0];
        if (!r) continue;
        r.name = key;
        out.push(r);
      }
      return out;
    },
  },
  {
    name: 'applyByNode',
    group: 'Combine',
    description: 'For each distinct prefix of the names up to nodeNum, evaluates templateFunction with % replaced by that prefix; newName (with %) renames the results.',
    params: [P.seriesList(), P.req('nodeNum', 'node'), P.req('templateFunction', 'string'), P.opt('newName', 'string')],
    call: async (ctx, a) => {
      const list = a.series();
      const nodeNum = a.num('nodeNum');
      const prefixes = [...new Set(list.map((s) => s.name.split('.').slice(0, nodeNum + 1).join('.')))].sort();
      const last = list[list.length - 1];
      const out: TimeSeries[] = [];
      for (const prefix of prefixes) {
        ctx.checkDeadline();
        const target = a.str('templateFunction').split('%').join(prefix);
        let expr;
        try {
          expr = parseTarget(target);
        } catch (err) {
          // the template (or a prefix that carries a function call's text) is the user's input: a 400
          if (err instanceof ExprParseError) throw badArgs(`applyByNode(): the template gives an invalid target for ${prefix}: ${err.message}`);
          throw err;
        }
        for (const r of await ctx.evaluate(expr)) {
          const newName = a.optStr('newName');
          if (newName) r.name = newName.split('%').join(prefix);
          r.pathExpression = prefix;
          // graphite-web takes these from the last series of the input (a loop variable leak)
          if (last) {
            r.start = last.start;
            r.end = last.end;
          }
          out.push(r);
        }
      }
      return out;
    },
  },
]);
