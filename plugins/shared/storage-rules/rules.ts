import { readFile } from 'node:fs/promises';
import { isAggregationMethod, type AggregationMethod, type ArchiveSpec } from '../whisper-format/header.js';
import { validateArchiveList } from '../whisper-format/create.js';
import { parseIni } from './ini.js';
import { parseCarbonRetentions } from './retention.js';
import { translatePythonRegex } from '../../../core/index.js';

/** One retention rule: the first whose pattern is found in the series name decides its archives. */
export interface SchemaRuleInput {
  readonly name?: string;
  /** a regex searched (unanchored, like Python's re.search) in the canonical series name */
  readonly pattern: string;
  /** carbon syntax, e.g. `10s:6h,1m:7d,10m:5y` */
  readonly retentions: string;
}

/** One aggregation rule; absent fields fall back to whisper's defaults (0.5, average). */
export interface AggregationRuleInput {
  readonly name?: string;
  readonly pattern: string;
  readonly xFilesFactor?: number;
  readonly aggregationMethod?: AggregationMethod;
}

export interface StorageRulesSource {
  /** path of a carbon storage-schemas.conf, read as carbon reads it */
  readonly schemasFile?: string;
  /** path of a carbon storage-aggregation.conf */
  readonly aggregationFile?: string;
  /** inline rules, evaluated before the files' rules */
  readonly schemas?: readonly SchemaRuleInput[];
  readonly aggregation?: readonly AggregationRuleInput[];
}

/** What a new series gets. */
export interface SeriesRule {
  readonly archives: readonly ArchiveSpec[];
  readonly xFilesFactor: number;
  readonly aggregationMethod: AggregationMethod;
  /** names of the rules that matched (`default` for carbon's fallbacks) */
  readonly schema: string;
  readonly aggregation: string;
}

/** A rule set carbon would refuse to start with. The message names the file and section. */
export class StorageRulesError extends Error {
  override name = 'StorageRulesError';
}

interface CompiledSchema {
  name: string;
  /** as written (a warning quotes it; `re` is its translation from Python) */
  pattern: string;
  re: RegExp;
  archives: ArchiveSpec[];
}
interface CompiledAggregation {
  name: string;
  pattern: string;
  re: RegExp;
  xFilesFactor?: number;
  aggregationMethod?: AggregationMethod;
}

/** carbon's implicit last schema: one minute for seven days. */
export const DEFAULT_ARCHIVES: readonly ArchiveSpec[] = [[60, 10080]];
export const DEFAULT_XFF = 0.5;
export const DEFAULT_METHOD: AggregationMethod = 'average';

/** A rule's pattern, written for Python's `re` as carbon compiles it (see translatePythonRegex). */
export function pythonRegex(pattern: string, where: string): RegExp {
  try {
    const { source, flags } = translatePythonRegex(pattern);
    return new RegExp(source, flags);
  } catch (err) {
    throw new StorageRulesError(`${where}: invalid pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

/**
 * Retention and aggregation rules for new series, with carbon's semantics (§1.7): first match
 * wins, unanchored search, implicit fallbacks. Rules only ever apply to files not yet created.
 */
export class StorageRules {
  private constructor(
    private readonly schemas: readonly CompiledSchema[],
    private readonly aggregations: readonly CompiledAggregation[],
    /** sections carbon would skip with a log line; the caller logs them */
    readonly warnings: readonly string[],
  ) {}

  static async load(src: StorageRulesSource): Promise<StorageRules> {
    const schemasText = src.schemasFile ? await readText(src.schemasFile, 'storage-schemas') : undefined;
    const aggText = src.aggregationFile ? await readText(src.aggregationFile, 'storage-aggregation') : undefined;
    return StorageRules.build(src, schemasText, aggText);
  }

  /** Synchronous variant for already-read file contents (and tests). */
  static build(src: StorageRulesSource, schemasText?: string, aggregationText?: string): StorageRules {
    const warnings: string[] = [];
    const schemas: CompiledSchema[] = [];
    const aggregations: CompiledAggregation[] = [];
    (src.schemas ?? []).forEach((r, i) => {
      const where = `storage schema rule ${r.name ?? i}`;
      const s = compileSchema(r.name ?? `rule${i}`, r.pattern, r.retentions, where, warnings);
      if (s) schemas.push(s);
    });
    const inlineSchemas = schemas.length;
    if (schemasText !== undefined) schemas.push(...parseSchemasFile(schemasText, src.schemasFile ?? '<schemas>', warnings));
    (src.aggregation ?? []).forEach((r, i) => {
      const where = `storage aggregation rule ${r.name ?? i}`;
      aggregations.push(compileAggregation(r.name ?? `rule${i}`, r.pattern, r.xFilesFactor, r.aggregationMethod, where));
    });
    const inlineAggregations = aggregations.length;
    if (aggregationText !== undefined) aggregations.push(...parseAggregationFile(aggregationText, src.aggregationFile ?? '<aggregation>', warnings));
    // The usual migration mistake: a carbon file added next to inline rules that end with a catch-all
    // (the shipped default config has one), so not one of the file's rules is ever reached.
    shadowed('schemasFile', 'schemas', src.schemasFile, schemas, inlineSchemas, warnings);
    shadowed('aggregationFile', 'aggregation', src.aggregationFile, aggregations, inlineAggregations, warnings);
    return new StorageRules(schemas, aggregations, warnings);
  }

  match(name: string): SeriesRule {
    const s = this.schemas.find((r) => r.re.test(name));
    const a = this.aggregations.find((r) => r.re.test(name));
    return {
      archives: s?.archives ?? DEFAULT_ARCHIVES,
      xFilesFactor: a?.xFilesFactor ?? DEFAULT_XFF,
      aggregationMethod: a?.aggregationMethod ?? DEFAULT_METHOD,
      schema: s?.name ?? 'default',
      aggregation: a?.name ?? 'default',
    };
  }
}

/** patterns that match every name: carbon's files use `.*`, some write `^` or leave `.` */
// as translated from Python (`.` is `[^\n]`)
const CATCH_ALL = new Set(['[^\\n]*', '^[^\\n]*', '[^\\n]*$', '^[^\\n]*$', '^', '', '[^\\n]?', '([^\\n]*)']);

function shadowed(fileKey: string, inlineKey: string, file: string | undefined, rules: ReadonlyArray<{ name: string; pattern: string; re: RegExp }>, inline: number, warnings: string[]): void {
  if (file === undefined || rules.length === inline) return;
  const all = rules.slice(0, inline).find((r) => CATCH_ALL.has(r.re.source === '(?:)' ? '' : r.re.source) && !/[ims]/.test(r.re.flags));
  if (all) {
    warnings.push(
      `${fileKey} ${file}: none of its ${rules.length - inline} rules is ever used: the inline ${inlineKey} rule '${all.name}' (pattern ${JSON.stringify(all.pattern)}) matches every name first; set \`${inlineKey}: []\` to use only the file`,
    );
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new StorageRulesError(`cannot read ${what} file ${path}: ${(err as Error).message}`);
  }
}

function compileSchema(name: string, pattern: string | undefined, retentions: string | undefined, where: string, warnings: string[]): CompiledSchema | undefined {
  if (retentions === undefined) {
    warnings.push(`${where}: missing 'retentions', skipped`);
    return undefined;
  }
  let archives: ArchiveSpec[];
  try {
    archives = parseCarbonRetentions(retentions);
  } catch (err) {
    // carbon exits on a retention syntax error
    throw new StorageRulesError(`${where}: ${(err as Error).message}`);
  }
  if (!pattern) {
    warnings.push(`${where}: missing 'pattern', skipped`);
    return undefined;
  }
  const re = pythonRegex(pattern, where);
  try {
    archives = validateArchiveList(archives);
  } catch (err) {
    warnings.push(`${where}: invalid archives, skipped: ${(err as Error).message}`);
    return undefined;
  }
  return { name, pattern, re, archives };
}

function compileAggregation(name: string, pattern: string | undefined, xff: number | undefined, method: string | undefined, where: string): CompiledAggregation {
  if (xff !== undefined && !(xff >= 0 && xff <= 1)) throw new StorageRulesError(`${where}: xFilesFactor ${xff} is not between 0 and 1`);
  if (method !== undefined && !isAggregationMethod(method)) {
    throw new StorageRulesError(`${where}: unknown aggregationMethod ${JSON.stringify(method)} (average, sum, last, max, min, avg_zero, absmax, absmin)`);
  }
  if (!pattern) throw new StorageRulesError(`${where}: missing 'pattern'`);
  const out: CompiledAggregation = { name, pattern, re: pythonRegex(pattern, where) };
  if (xff !== undefined) out.xFilesFactor = xff;
  if (method !== undefined) out.aggregationMethod = method;
  return out;
}

/** storage-schemas.conf as carbon 1.1.7 reads it. */
export function parseSchemasFile(text: string, file: string, warnings: string[]): CompiledSchema[] {
  const out: CompiledSchema[] = [];
  for (const sec of parseIni(text, file)) {
    const where = `${file} [${sec.name}]`;
    const s = compileSchema(sec.name, sec.options.get('pattern'), sec.options.get('retentions'), where, warnings);
    if (s) out.push(s);
  }
  return out;
}

/** storage-aggregation.conf as carbon 1.1.7 reads it. */
export function parseAggregationFile(text: string, file: string, warnings: string[]): CompiledAggregation[] {
  const out: CompiledAggregation[] = [];
  for (const sec of parseIni(text, file)) {
    const where = `${file} [${sec.name}]`;
    const xffText = sec.options.get('xfilesfactor');
    let xff: number | undefined;
    if (xffText !== undefined) {
      xff = pythonFloat(xffText);
      if (xff === undefined) {
        // carbon: float() raised ValueError → "Invalid schemas found", section skipped
        warnings.push(`${where}: xFilesFactor ${JSON.stringify(xffText)} is not a number, skipped`);
        continue;
      }
    }
    const pattern = sec.options.get('pattern');
    if (!pattern) {
      warnings.push(`${where}: missing 'pattern', skipped`);
      continue;
    }
    out.push(compileAggregation(sec.name, pattern, xff, sec.options.get('aggregationmethod'), where));
  }
  return out;
}

/** Python float() of a string: decimal, exponent, inf/nan; undefined when Python would raise. */
function pythonFloat(s: string): number | undefined {
  const t = s.trim().replace(/_/g, '');
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  return undefined;
}
