import { badArgs } from '../errors.js';
import { parseTarget } from '../parser.js';
import { PyFormatError, pyPercent } from '../pyformat.js';
import { subAll } from '../pyregex.js';
import { safeLast } from '../safe.js';
import { aggKey } from './common.js';
import { P, defineFunctions } from './types.js';
import type { TimeSeries } from '../time-series.js';

/** graphite-web's substr(): the dotted part inside the innermost parentheses, sliced by node */
export function substrName(name: string, start: number, stop: number): string {
  const left = name.lastIndexOf('(') + 1;
  let right = name.indexOf(')');
  if (right < 0) right = name.length + 1;
  const clean = name.slice(left, right);
  const nodes = clean.split('.');
  const norm = (i: number): number => (i < 0 ? Math.max(0, nodes.length + i) : Math.min(i, nodes.length));
  const picked = stop === 0 ? nodes.slice(norm(start)) : nodes.slice(norm(start), norm(stop));
  return picked.join('.').replace(/,.*$/s, '');
}

function rename(list: TimeSeries[], f: (s: TimeSeries, i: number) => string): TimeSeries[] {
  return list.map((s, i) => {
    const r = s.copy({ name: f(s, i), pathExpression: s.pathExpression });
    return r;
  });
}

export const aliasFunctions = defineFunctions([
  {
    name: 'alias',
    group: 'Alias',
    description: 'Renames every series to the given name.',
    params: [P.seriesList(), P.req('newName', 'string')],
    call: (_ctx, a) => rename(a.series(), () => a.str('newName')),
  },
  {
    name: 'aliasByNode',
    group: 'Alias',
    description: 'Renames each series to the given nodes of its path (negative counts from the end) or tag values, joined by ".". On a function-wrapped name the first path inside is used.',
    params: [P.seriesList(), P.many('nodes', 'nodeOrTag', true)],
    call: (_ctx, a) => rename(a.series(), (s) => aggKey(s, a.list<number | string>('nodes'))),
  },
  {
    name: 'aliasByTags',
    group: 'Alias',
    description: 'Renames each series to the values of the given tags (or path nodes), joined by ".".',
    params: [P.seriesList(), P.many('tags', 'nodeOrTag', true)],
    call: (_ctx, a) => rename(a.series(), (s) => aggKey(s, a.list<number | string>('tags'))),
  },
  {
    name: 'aliasByMetric',
    group: 'Alias',
    description: 'Renames each series to the last node of its path.',
    params: [P.seriesList()],
    call: (_ctx, a) => rename(a.series(), (s) => substrName(s.name, -1, 0)),
  },
  {
    name: 'aliasSub',
    group: 'Alias',
    description: 'Renames each series with a regular expression substitution (Python syntax: \\1 or \\g<name> refer to groups).',
    params: [P.seriesList(), P.req('search', 'string'), P.req('replace', 'string')],
    call: (_ctx, a) => {
      const list = a.series();
      const names = subAll(a.str('search'), a.str('replace'), list.map((s) => s.name));
      return rename(list, (_s, i) => names[i]!);
    },
  },
  {
    name: 'aliasQuery',
    group: 'Alias',
    description: 'Renames each series using the last value of another query built from its name: newName is a printf-style template receiving that value.',
    params: [P.seriesList(), P.req('search', 'string'), P.req('replace', 'string'), P.req('newName', 'string')],
    call: async (ctx, a) => {
      const out: TimeSeries[] = [];
      const list = a.series();
      const queries = subAll(a.str('search'), a.str('replace'), list.map((s) => s.name));
      for (const [i, s] of list.entries()) {
        const query = queries[i]!;
        const found = await ctx.evaluate(parseTarget(query));
        if (found.length === 0) throw badArgs(`No series found with query: ${query}`);
        const last = safeLast(found[0]!.values);
        if (Number.isNaN(last)) throw badArgs(`Cannot get last value of series: ${found[0]!.name}`);
        out.push(s.copy({ name: formatName(a.str('newName'), last), pathExpression: s.pathExpression }));
      }
      return out;
    },
  },
]);

/** graphite-web names the series `newName % value`; a template Python refuses is a 500 there */
function formatName(template: string, value: number): string {
  try {
    return pyPercent(template, value);
  } catch (err) {
    if (err instanceof PyFormatError) throw badArgs(`aliasQuery newName: ${err.message}`);
    throw err;
  }
}
