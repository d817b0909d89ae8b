import { pyFixed, pyFloat } from '../pyformat.js';
import { getAggFunc, safeLast, safeMax, safeMin } from '../safe.js';
import { AGG_FUNC_NAMES } from '../safe.js';
import { P, defineFunctions } from './types.js';

const UNIT_SYSTEMS: Record<string, [string, number][]> = {
  binary: [
    ['Pi', 1024 ** 5],
    ['Ti', 1024 ** 4],
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ],
  si: [
    ['P', 1000 ** 5],
    ['T', 1000 ** 4],
    ['G', 1000 ** 3],
    ['M', 1000 ** 2],
    ['k', 1000],
  ],
};

/** graphite's format_units: the value scaled to the largest fitting prefix */
function formatUnits(v: number, system: string, units?: string): [number, string] {
  for (const [prefix, size] of UNIT_SYSTEMS[system] ?? []) {
    if (Math.abs(v) >= size) {
      let v2 = v / size;
      if (v2 - Math.floor(v2) < 1e-11 && v > 1) v2 = Math.floor(v2);
      return [v2, units ? `${prefix}${units}` : prefix];
    }
  }
  if (v - Math.floor(v) < 1e-11 && v > 1) v = Math.floor(v);
  return [v, units ?? ''];
}

/** Python's "%*s" with a negative width: left-justified */
const ljust = (s: string, w: number): string => s.padEnd(w);

export const legendFunctions = defineFunctions([
  {
    name: 'legendValue',
    group: 'Alias',
    description: 'Appends aggregate values to each name, e.g. legendValue(x, "avg", "max"); a final "si" or "binary" formats them with unit prefixes.',
    params: [P.seriesList(), { name: 'valuesTypes', type: 'string', multiple: true, options: [...AGG_FUNC_NAMES, ...AGG_FUNC_NAMES.map((n) => `${n}Series`), 'si', 'binary'] }],
    pySignature: '(seriesList, *valueTypes)',
    call: (_ctx, a) => {
      let types = a.list<string>('valuesTypes');
      let system: string | undefined;
      const lastType = types[types.length - 1];
      if (lastType === 'si' || lastType === 'binary') {
        system = lastType;
        types = types.slice(0, -1);
      }
      return a.series().map((s) => {
        let name = s.name;
        for (const t of types) {
          // graphite-web's getAggFunc knows no `sumSeries` spellings here: '(?)'
          const f = t.endsWith('Series') ? undefined : getAggFunc(t);
          const v = f ? f(s.values) : undefined;
          // count is Python's len(): an int, printed without '.0'
          if (system === undefined) name += ` (${t}: ${v === undefined ? '(?)' : Number.isNaN(v) ? 'None' : t === 'count' ? String(v) : pyFloat(v)})`;
          else {
            let formatted = 'None';
            if (v === undefined) formatted = '(?)';
            else if (!Number.isNaN(v)) {
              const [x, prefix] = formatUnits(v, system);
              formatted = `${pyFixed(x, 2)}${prefix}`;
            }
            name = `${ljust(name, 20)}${ljust(t, 5)}${ljust(formatted, 10)}`;
          }
        }
        return s.copy({ name, pathExpression: s.pathExpression });
      });
    },
  },
  {
    name: 'cactiStyle',
    group: 'Special',
    description: 'Appends "Current: Max: Min:" columns to each name, aligned across the list (optionally with si/binary prefixes and units).',
    params: [P.seriesList(), P.opt('system', 'string', undefined, { options: ['binary', 'si'] }), P.opt('units', 'string')],
    call: (_ctx, a) => {
      const list = a.series();
      if (list.length === 0) return list;
      const system = a.optStr('system');
      const units = a.optStr('units');
      const fmt = (x: number): string => {
        if (system) {
          const [v, prefix] = formatUnits(x, system, units);
          return units ? `${pyFixed(v, 2)} ${prefix}` : `${pyFixed(v, 2)}${prefix}`;
        }
        return units ? `${pyFixed(x, 2)} ${units}` : pyFixed(x, 2);
      };
      const widthOf = (f: (v: Float64Array) => number): number =>
        Math.max(0, ...list.map((s) => fmt(Math.trunc(f(s.values) || 3)).length)) + 3;
      const nameLen = Math.max(0, ...list.map((s) => s.name.length));
      const lastLen = widthOf(safeLast);
      const maxLen = widthOf(safeMax);
      const minLen = widthOf(safeMin);
      return list.map((s) => {
        const show = (v: number): string => (Number.isNaN(v) ? 'nan' : fmt(v));
        const name = `${ljust(s.name, nameLen)} Current:${ljust(show(safeLast(s.values)), lastLen)} Max:${ljust(show(safeMax(s.values)), maxLen)} Min:${ljust(show(safeMin(s.values)), minLen)} `;
        return s.copy({ name, pathExpression: s.pathExpression });
      });
    },
  },
]);
