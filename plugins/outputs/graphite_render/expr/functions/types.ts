import type { EventStore, QueryStore } from '../../../../../core/index.js';
import type { Expr } from '../ast.js';
import { badArgs } from '../errors.js';
import type { TimeSeries } from '../time-series.js';

/** graphite-web's parameter types, as /functions reports them */
export type ParamType =
  | 'aggFunc'
  | 'aggOrSeriesFunc'
  | 'any'
  | 'boolean'
  | 'date'
  | 'float'
  | 'integer'
  | 'interval'
  | 'intOrInf'
  | 'intOrInterval'
  | 'node'
  | 'nodeOrTag'
  | 'series'
  | 'seriesList'
  | 'seriesLists'
  | 'string'
  | 'tag';

export type Group = 'Alias' | 'Calculate' | 'Combine' | 'Filter Data' | 'Filter Series' | 'Graph' | 'Sorting' | 'Special' | 'Transform';

export type Scalar = number | string | boolean | null;

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly required?: boolean;
  readonly default?: Scalar;
  readonly multiple?: boolean;
  readonly options?: readonly Scalar[];
  readonly suggestions?: readonly Scalar[];
  /**
   * graphite-web's Python argument name, where its params list names the parameter differently
   * (timeShift's alignDST is `alignDst` there): a keyword argument may use either, since callers
   * of graphite-web can only have used the Python one.
   */
  readonly pyName?: string;
}

/** What a function sees of the request (graphite-web's requestContext). */
export interface FnContext {
  readonly from: number;
  readonly until: number;
  readonly now: number;
  /** the request's time zone (undefined: UTC): calendar alignment of hitcount and smartSummarize */
  readonly tz: string | undefined;
  /** the server's zone (graphite-web's TIME_ZONE; undefined: UTC): date arguments, timeShift's alignDst */
  readonly serverTz: string | undefined;
  readonly store: QueryStore;
  readonly events: EventStore | undefined;
  /** request-level xFilesFactor; setXFilesFactor() changes it for later calls, as in graphite-web */
  xFilesFactor: number | undefined;
  /** per-request state shared across targets (stacked() totals) */
  readonly shared: Map<string, unknown>;
  /** the unevaluated arguments of this call (pipes already desugared) */
  readonly rawArgs: readonly Expr[];
  /** evaluates an expression again over another time range (timeShift, moving*, …) */
  evaluate(expr: Expr, range?: { from?: number; until?: number }): Promise<TimeSeries[]>;
  /** is there a series function of this name? */
  hasFunction(name: string): boolean;
  /** calls another function by name with positional arguments (groupBy* callbacks) */
  call(name: string, args: readonly unknown[]): Promise<TimeSeries[]>;
  /** throws 422 once the request deadline passed */
  checkDeadline(): void;
  /**
   * call before allocating `points` values a function makes from an interval or the range rather
   * than from its inputs: 422 if one series would be too long or the request's point budget is spent
   */
  generate(fn: string, points: number): void;
}

/** Validated arguments, by parameter name; `multiple` parameters hold an array. */
export class Args {
  constructor(
    readonly fn: string,
    private readonly v: ReadonlyMap<string, unknown>,
  ) {}

  has(name: string): boolean {
    const x = this.v.get(name);
    return x !== undefined && x !== null;
  }

  raw(name: string): unknown {
    return this.v.get(name);
  }

  series(name = 'seriesList'): TimeSeries[] {
    const x = this.v.get(name);
    if (x === undefined || x === null) return [];
    return x as TimeSeries[];
  }

  /** a `multiple` seriesList parameter: one list per argument */
  seriesLists(name = 'seriesLists'): TimeSeries[][] {
    const x = this.v.get(name);
    return (x as TimeSeries[][] | undefined) ?? [];
  }

  num(name: string, dflt?: number): number {
    const x = this.v.get(name);
    if (x === undefined || x === null) {
      if (dflt === undefined) throw badArgs(`${this.fn}(): missing ${name}`);
      return dflt;
    }
    return x as number;
  }

  optNum(name: string): number | undefined {
    const x = this.v.get(name);
    return x === undefined || x === null ? undefined : (x as number);
  }

  str(name: string, dflt?: string): string {
    const x = this.v.get(name);
    if (x === undefined || x === null) {
      if (dflt === undefined) throw badArgs(`${this.fn}(): missing ${name}`);
      return dflt;
    }
    return String(x);
  }

  optStr(name: string): string | undefined {
    const x = this.v.get(name);
    return x === undefined || x === null ? undefined : String(x);
  }

  bool(name: string, dflt = false): boolean {
    const x = this.v.get(name);
    return x === undefined || x === null ? dflt : Boolean(x);
  }

  list<T = unknown>(name: string): T[] {
    const x = this.v.get(name);
    return x === undefined || x === null ? [] : (x as T[]);
  }
}

export interface FunctionDef {
  readonly name: string;
  readonly group: Group;
  /** our own wording (graphite-web's docstrings are not copied) */
  readonly description: string;
  readonly params: readonly ParamSpec[];
  /** may serve as a groupByNode/groupByTags callback (graphite-web's `aggregator = True`) */
  readonly aggregator?: boolean;
  /** other names bound to the same implementation (sum → sumSeries) */
  readonly aliases?: readonly string[];
  /**
   * The argument list /functions shows, where graphite-web's Python signature differs from what
   * its params list gives (`highest(seriesList, n=1, …)` though n is required there).
   */
  readonly pySignature?: string;
  call(ctx: FnContext, a: Args): Promise<TimeSeries[]> | TimeSeries[];
}

export function defineFunctions(defs: FunctionDef[]): FunctionDef[] {
  return defs;
}

/** shorthand parameter constructors */
export const P = {
  seriesList: (name = 'seriesList'): ParamSpec => ({ name, type: 'seriesList', required: true }),
  seriesLists: (name = 'seriesLists', required = true): ParamSpec => ({ name, type: 'seriesList', required, multiple: true }),
  req: (name: string, type: ParamType, extra: Partial<ParamSpec> = {}): ParamSpec => ({ name, type, required: true, ...extra }),
  opt: (name: string, type: ParamType, dflt?: Scalar, extra: Partial<ParamSpec> = {}): ParamSpec =>
    dflt === undefined ? { name, type, ...extra } : { name, type, default: dflt, ...extra },
  many: (name: string, type: ParamType, required = false): ParamSpec => (required ? { name, type, required, multiple: true } : { name, type, multiple: true }),
};

export const INTERVAL_SUGGESTIONS: readonly Scalar[] = [5, 7, 10, '1min', '5min', '10min', '30min', '1hour'];
