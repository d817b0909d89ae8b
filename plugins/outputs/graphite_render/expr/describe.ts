import { allFunctions } from './registry.js';
import { AGG_FUNC_NAMES } from './safe.js';
import type { FunctionDef, Group, ParamSpec, Scalar } from './functions/types.js';

/** One entry of graphite-web's /functions answer. */
// a type alias (not an interface) so it is assignable to index-signature types
export type FunctionDescription = {
  name: string;
  /** signature, e.g. `movingAverage(seriesList, windowSize, xFilesFactor=None)` */
  function: string;
  description: string;
  module: string;
  group: Group;
  params: ParamDescription[];
};

export type ParamDescription = {
  name: string;
  type: string;
  required?: true;
  /** Infinity stays a number here; the HTTP layer must serialise it as 1e9999 (graphite's spelling) */
  default?: Scalar;
  multiple?: true;
  options?: Scalar[];
  suggestions?: Scalar[];
};

const MODULE = 'graphite.render.functions';

/** sorted like Python's `sort(key=str)` */
function sortAsStrings(xs: Scalar[]): Scalar[] {
  return [...xs].sort((a, b) => {
    const sa = pyStr(a);
    const sb = pyStr(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  });
}

function pyStr(x: Scalar): string {
  if (x === null) return 'None';
  if (typeof x === 'boolean') return x ? 'True' : 'False';
  return String(x);
}

function aggregatorNames(): string[] {
  const out: string[] = [];
  for (const [name, def] of allFunctions()) if (def.aggregator) out.push(name);
  return out;
}

function describeParam(p: ParamSpec): ParamDescription {
  const d: ParamDescription = { name: p.name, type: p.type };
  if (p.required) d.required = true;
  if (p.default !== undefined && p.default !== null) d.default = p.default;
  if (p.multiple) d.multiple = true;
  let options: Scalar[] = [...(p.options ?? [])];
  if (p.type === 'aggFunc' || p.type === 'aggOrSeriesFunc') options = [...new Set([...options, ...AGG_FUNC_NAMES])];
  if (p.type === 'aggOrSeriesFunc') options = [...new Set([...options, ...aggregatorNames()])];
  if (options.length > 0) d.options = sortAsStrings(options);
  if (p.suggestions && p.suggestions.length > 0) d.suggestions = [...p.suggestions];
  return d;
}

function signature(name: string, def: FunctionDef): string {
  if (def.pySignature !== undefined) return `${name}${def.pySignature}`;
  const parts = def.params.map((p) => {
    if (p.multiple) return `*${p.name}`;
    if (p.required) return p.name;
    const dflt = p.default;
    const text = dflt === undefined || dflt === null ? 'None' : typeof dflt === 'string' ? `'${dflt}'` : dflt === Infinity ? 'inf' : pyStr(dflt);
    return `${p.name}=${text}`;
  });
  return `${name}(${parts.join(', ')})`;
}

/**
 * graphite-web's /functions JSON shape, keyed by function name (aliases included, as graphite
 * lists `sum`, `avg`…). Plus `seriesByTag`, which the evaluator handles itself.
 */
export function functionDescriptions(): Record<string, FunctionDescription> {
  const out: Record<string, FunctionDescription> = {};
  const entries = [...allFunctions()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, def] of entries) {
    out[name] = {
      name,
      function: signature(name, def),
      description: def.name === name ? def.description : `Alias of ${def.name}. ${def.description}`,
      module: MODULE,
      group: def.group,
      params: def.params.map(describeParam),
    };
  }
  out.seriesByTag = {
    name: 'seriesByTag',
    function: 'seriesByTag(*tagExpressions)',
    description:
      "Series whose tags match every expression: 'tag=value', 'tag!=value', 'tag=~regex', 'tag!=~regex' (regexes anchored at the start). At least one expression must not match an empty value.",
    module: MODULE,
    group: 'Special',
    params: [{ name: 'tagExpressions', type: 'string', required: true, multiple: true }],
  };
  return out;
}
