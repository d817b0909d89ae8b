/**
 * The function library: every group file contributes its definitions here, and this map is
 * the single source for both evaluation and /functions (so the description lists exactly what
 * exists). A duplicate name is a programming error and fails at load.
 */
import { aliasFunctions } from './functions/alias.js';
import { calculateFunctions } from './functions/calculate.js';
import { combineFunctions } from './functions/combine.js';
import { filterDataFunctions, filterSeriesFunctions, sortingFunctions } from './functions/filter.js';
import { graphFunctions } from './functions/graph.js';
import { holtWintersFunctions } from './functions/holt-winters.js';
import { legendFunctions } from './functions/legend.js';
import { mapReduceFunctions } from './functions/map-reduce.js';
import { specialFunctions } from './functions/special.js';
import { timeRangeFunctions } from './functions/time-range.js';
import { transformFunctions } from './functions/transform.js';
import type { FunctionDef } from './functions/types.js';

const ALL: readonly FunctionDef[] = [
  ...aliasFunctions,
  ...combineFunctions,
  ...transformFunctions,
  ...calculateFunctions,
  ...filterSeriesFunctions,
  ...filterDataFunctions,
  ...sortingFunctions,
  ...specialFunctions,
  ...graphFunctions,
  ...holtWintersFunctions,
  ...timeRangeFunctions,
  ...mapReduceFunctions,
  ...legendFunctions,
];

function buildIndex(defs: readonly FunctionDef[]): ReadonlyMap<string, FunctionDef> {
  const m = new Map<string, FunctionDef>();
  const add = (name: string, def: FunctionDef): void => {
    if (m.has(name) || name === 'seriesByTag') throw new Error(`graphite function ${name} defined twice`);
    m.set(name, def);
  };
  for (const d of defs) {
    add(d.name, d);
    for (const alias of d.aliases ?? []) add(alias, d);
  }
  return m;
}

const INDEX = buildIndex(ALL);

export function getFunction(name: string): FunctionDef | undefined {
  return INDEX.get(name);
}

/** every callable name (aliases included), with the definition it runs */
export function allFunctions(): ReadonlyMap<string, FunctionDef> {
  return INDEX;
}
