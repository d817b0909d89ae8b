import type { EventStore, QueryStore, SeriesData } from '../../../../core/index.js';
import { compileTagQuery, isBadName, normalizeSeriesName, parseTagTerm, TagExpressionError, turnTaker } from '../../../../core/index.js';
import type { CallExpr, Expr, KwArg } from './ast.js';
import { ExprEvalError, badArgs } from './errors.js';
import { checkGenerated } from './functions/common.js';
import { Args, type FnContext, type FunctionDef, type ParamSpec } from './functions/types.js';
import { isInterval } from './interval.js';
import { PointBudget } from './point-budget.js';
import { pyNum } from './pyformat.js';
import { getFunction } from './registry.js';
import { getAggFunc } from './safe.js';
import { TimeSeries, tagsFromName } from './time-series.js';

export interface EvalContext {
  /** Unix seconds, already resolved by the HTTP layer */
  from: number;
  until: number;
  now: number;
  store: QueryStore;
  events?: EventStore;
  /** more series than this from one path expression, or in one result → 422 */
  maxSeriesPerTarget: number;
  /** request-level default (graphite-web's `xFilesFactor` parameter) */
  xFilesFactor?: number;
  /** Date.now() in ms after which evaluation aborts with 422 */
  deadline?: number;
  /**
   * IANA time zone of the request (graphite's `tz` parameter, else the configured zone): the wall
   * clock hitcount's and smartSummarize's calendar alignment truncates on. Default UTC.
   */
  tz?: string;
  /**
   * The server's zone (graphite-web's TIME_ZONE, which Django also makes the process zone): date
   * arguments (timeSlice, linearRegression, verticalLine) and timeShift's DST alignment use it,
   * whatever the request's `tz`, as in graphite-web. Default UTC.
   */
  serverTz?: string;
  /**
   * state shared by all targets of one render request (graphite-web's requestContext): pass the
   * same Map to every evaluateTarget() of a request so `stacked()` stacks across targets
   */
  requestState?: Map<string, unknown>;
  /** `template[name]=value` request parameters, overriding template() defaults */
  templateArgs?: Readonly<Record<string, string>>;
  /**
   * the request's datapoint budget, shared by its targets (and by the store the HTTP layer wraps
   * around it): copies of data used twice and series functions generate are charged to it before
   * they are allocated. Default: no budget but the per-series MAX_GENERATED_POINTS
   */
  pointBudget?: PointBudget;
}

/** one fetch may not bring more points than this (160 MB of Float64 values) */
export const MAX_POINTS_PER_FETCH = 20_000_000;

/** per-request state shared by every call of one evaluateTarget() */
interface State {
  readonly ctx: EvalContext;
  xFilesFactor: number | undefined;
  /**
   * Store answers by (names, range) for this request: a target naming one path twice
   * (`asPercent(a.*, sumSeries(a.*))`) fetches it once. SeriesData is immutable; every use
   * still gets its own TimeSeries objects, because some functions rename their inputs.
   */
  readonly fetched: Map<string, Promise<SeriesData[]>>;
  /** path expression + range → its data (find, then fetch through `fetched`) */
  readonly patterns: Map<string, Promise<SeriesData[]>>;
  /** store answers whose values a TimeSeries already uses: a second use gets a copy */
  readonly handedOut: WeakSet<SeriesData>;
  readonly shared: Map<string, unknown>;
  readonly budget: PointBudget;
  /** between path expressions: a turn of the event loop every TURN_MS */
  readonly turn: () => Promise<void>;
}

interface Frame {
  readonly from: number;
  readonly until: number;
  readonly replacements: ReadonlyMap<string, string | number> | undefined;
}

/** Evaluates a parsed target to its list of series (graphite-web's evaluateTarget). */
export async function evaluateTarget(expr: Expr, ctx: EvalContext): Promise<TimeSeries[]> {
  const state: State = { ctx, xFilesFactor: ctx.xFilesFactor, fetched: new Map(), patterns: new Map(), handedOut: new WeakSet(), shared: ctx.requestState ?? new Map(), budget: ctx.pointBudget ?? new PointBudget(Infinity), turn: turnTaker(TURN_MS) };
  const frame: Frame = { from: ctx.from, until: ctx.until, replacements: undefined };
  prefetch(expr, state, frame);
  // mapSeries() yields a list of lists; graphite-web would fail to render it, we flatten it
  const result = (await evalSeries(expr, state, frame)).flat() as TimeSeries[];
  if (result.length > ctx.maxSeriesPerTarget) {
    throw new ExprEvalError(`target returns ${result.length} series, more than the limit of ${ctx.maxSeriesPerTarget}`, 422);
  }
  return result;
}

function checkDeadline(state: State): void {
  const d = state.ctx.deadline;
  if (d !== undefined && Date.now() > d) throw new ExprEvalError('render deadline exceeded', 422);
}

async function evalSeries(expr: Expr, state: State, frame: Frame): Promise<TimeSeries[]> {
  const v = await evalExpr(expr, state, frame);
  if (!Array.isArray(v)) throw badArgs('expected a series expression');
  return v as TimeSeries[];
}

/** literal → JS value; series expression → TimeSeries[] */
async function evalExpr(expr: Expr, state: State, frame: Frame): Promise<unknown> {
  switch (expr.type) {
    case 'number':
      return expr;
    case 'string':
      return expr.value;
    case 'boolean':
      return expr.value;
    case 'none':
      return null;
    case 'path':
      return evalPath(expr.path, state, frame);
    case 'template': {
      const reps = new Map<string, string | number>();
      expr.args.forEach((a, i) => reps.set(String(i + 1), literalValue(a)));
      for (const k of expr.kwargs) reps.set(k.name, literalValue(k.value));
      for (const [k, v] of Object.entries(state.ctx.templateArgs ?? {})) reps.set(k, v);
      return evalExpr(expr.inner, state, { ...frame, replacements: reps });
    }
    case 'call':
      return evalCall(expr, state, frame);
  }
}

function literalValue(e: Expr): string | number {
  if (e.type === 'number') return e.value;
  if (e.type === 'string') return e.value;
  throw badArgs('template() accepts only string and number arguments');
}

async function evalPath(path: string, state: State, frame: Frame): Promise<unknown> {
  let p = path;
  if (frame.replacements) {
    for (const [name, val] of frame.replacements) {
      if (p === `$${name}`) {
        // a whole-argument placeholder becomes a literal, numbers when they look like one
        if (typeof val === 'number') return { type: 'number', value: val, isInt: Number.isInteger(val) };
        if (/^-?[\d.]+$/.test(val)) return { type: 'number', value: Number(val), isInt: false };
        return val;
      }
      p = p.split(`$${name}`).join(typeof val === 'number' ? pyNum(val, Number.isInteger(val)) : val);
    }
  }
  return fetchPath(p, state, frame);
}

async function fetchPath(pattern: string, state: State, frame: Frame): Promise<TimeSeries[]> {
  // a target of thousands of paths, each quick to find, must not hold the loop for all of them
  await state.turn();
  checkDeadline(state);
  const data = await loadPattern(pattern, state, frame);
  return toSeries(data, pattern, state);
}

/**
 * A path expression's data over a frame, once per request: find the leaves, then fetch them.
 * The promise is cached (and marked handled, so a prefetch that fails before evaluation gets to
 * it is no unhandled rejection); its error surfaces where evaluation awaits it.
 */
function loadPattern(pattern: string, state: State, frame: Frame): Promise<SeriesData[]> {
  const key = `${frame.from}\0${frame.until}\0${pattern}`;
  let p = state.patterns.get(key);
  if (!p) {
    p = (async () => {
      const { store, maxSeriesPerTarget } = state.ctx;
      let names: string[];
      if (pattern.includes(';') && !/[*?[{]/.test(pattern)) {
        const n = normalizeSeriesName(pattern);
        names = isBadName(n) ? [] : [n];
      } else {
        const nodes = await store.find(pattern, { limit: maxSeriesPerTarget, leavesOnly: true });
        names = [...new Set(nodes.filter((n) => n.isLeaf).map((n) => n.path))];
      }
      if (names.length > maxSeriesPerTarget) {
        // the store stops counting past the limit: the number shown is a lower bound
        throw new ExprEvalError(`${pattern} matches more than ${maxSeriesPerTarget} series (the limit)`, 422);
      }
      return names.length === 0 ? [] : loadNames(names, pattern, state, frame);
    })();
    p.catch(() => undefined);
    state.patterns.set(key, p);
  }
  return p;
}

/**
 * graphite-web prefetches every path expression of a target before evaluating it; so do we, so
 * the fetches of `divideSeries(a.*, b.*)` run concurrently. Evaluation stays sequential (and
 * setXFilesFactor() keeps its ordering), it just finds the data already on its way.
 * Paths inside template() are left out: their text is only known once substituted.
 */
function prefetch(expr: Expr, state: State, frame: Frame, budget = { left: MAX_PREFETCH }): void {
  if (expr.type === 'path') {
    // each start runs a find up to its first await: 80,000 of them at once held the loop 10 s
    if (budget.left-- > 0) void loadPattern(expr.path, state, frame).catch(() => undefined);
  } else if (expr.type === 'call' && expr.name !== 'seriesByTag') {
    for (const a of expr.args) prefetch(a, state, frame, budget);
    for (const k of expr.kwargs) prefetch(k.value, state, frame, budget);
  }
}

/** path expressions of a target fetched ahead of evaluation; later ones load when evaluated */
const MAX_PREFETCH = 64;
/** most milliseconds of evaluation between two turns of the event loop */
const TURN_MS = 20;

/** the last second of year 9999: ranges beyond it (or before 1970) come from absurd windows or dates */
const MAX_TIME = 253_402_300_799;

async function loadNames(names: string[], pathExpression: string, state: State, frame: Frame): Promise<SeriesData[]> {
  if (!(Number.isFinite(frame.from) && Number.isFinite(frame.until) && frame.from >= 0 && frame.until <= MAX_TIME)) {
    throw badArgs(`time range ${frame.from}..${frame.until} for ${pathExpression} is out of bounds (window or shift too large?)`);
  }
  if (frame.until <= frame.from) return [];
  const key = `${frame.from}\0${frame.until}\0${names.join('\0')}`;
  let pending = state.fetched.get(key);
  if (!pending) {
    pending = state.ctx.store.fetch(names, frame.from, frame.until, { now: state.ctx.now });
    pending.catch(() => undefined);
    state.fetched.set(key, pending);
  }
  const data = await pending;
  let points = 0;
  for (const d of data) points += d.values.length;
  if (points > MAX_POINTS_PER_FETCH) {
    throw new ExprEvalError(`${pathExpression} selects ${points} datapoints, more than ${MAX_POINTS_PER_FETCH}: narrow the time range`, 422);
  }
  return data;
}

/**
 * fresh TimeSeries for every use (functions may rename what they get), sorted by name. The first
 * use takes the store's values as they are: functions never write into a series they received
 * (see TimeSeries), and copying 1000 series of 8640 points cost 20-60 ms a render, mostly page
 * faults and GC. A second use of the same answer in the request still gets its own copy.
 */
function toSeries(data: readonly SeriesData[], pathExpression: string, state: State): TimeSeries[] {
  const out = data.map(
    (d) =>
      new TimeSeries({
        name: d.name,
        start: d.start,
        end: d.end,
        step: d.step,
        values: takeValues(d, state),
        tags: tagsFromName(d.name),
        pathExpression,
        xFilesFactor: state.xFilesFactor ?? 0,
      }),
  );
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function takeValues(d: SeriesData, state: State): Float64Array {
  if (!state.handedOut.has(d)) {
    state.handedOut.add(d);
    return d.values;
  }
  // `sumSeries(a.*, a.*, …)` would otherwise take a full copy per use for nothing
  state.budget.charge(d.values.length, `a second use of ${d.name}`);
  return d.values.slice();
}

async function seriesByTag(call: CallExpr, state: State, frame: Frame): Promise<TimeSeries[]> {
  checkDeadline(state);
  const exprs: string[] = [];
  for (const a of call.args) {
    const v = await evalExpr(a, state, frame);
    if (typeof v !== 'string') throw badArgs('seriesByTag() takes tag expressions as strings');
    exprs.push(v);
  }
  if (exprs.length === 0) throw badArgs('seriesByTag(): no tag expressions given');
  let terms;
  try {
    terms = exprs.map(parseTagTerm);
    compileTagQuery(terms);
  } catch (err) {
    if (err instanceof TagExpressionError) throw badArgs(err.message);
    throw err;
  }
  const tags = state.ctx.store.tags;
  if (!tags) return [];
  const names = [...new Set(await tags.findTagged(terms, { limit: state.ctx.maxSeriesPerTarget }))];
  if (names.length > state.ctx.maxSeriesPerTarget) {
    // the index stops counting past the limit
    throw new ExprEvalError(`${call.raw} matches more than ${state.ctx.maxSeriesPerTarget} series (the limit)`, 422);
  }
  if (names.length === 0) return [];
  return toSeries(await loadNames(names, call.raw, state, frame), call.raw, state);
}

async function evalCall(call: CallExpr, state: State, frame: Frame): Promise<unknown> {
  if (call.name === 'seriesByTag') return seriesByTag(call, state, frame);
  if (call.name === 'template') throw badArgs('invalid template() syntax, only string/numeric arguments are allowed');
  const def = getFunction(call.name);
  if (!def) throw badArgs(`Received request for unknown function: ${call.name}`);
  const args: unknown[] = [];
  for (const a of call.args) args.push(await evalExpr(a, state, frame));
  const kwargs = new Map<string, unknown>();
  for (const k of call.kwargs as readonly KwArg[]) kwargs.set(k.name, await evalExpr(k.value, state, frame));
  checkDeadline(state);
  const bound = bindArgs(def, args, kwargs);
  return def.call(makeFnContext(state, frame, call.args), bound);
}

function makeFnContext(state: State, frame: Frame, rawArgs: readonly Expr[]): FnContext {
  const ctx = state.ctx;
  return {
    from: frame.from,
    until: frame.until,
    now: ctx.now,
    tz: ctx.tz,
    serverTz: ctx.serverTz,
    store: ctx.store,
    events: ctx.events,
    get xFilesFactor() {
      return state.xFilesFactor;
    },
    set xFilesFactor(v: number | undefined) {
      state.xFilesFactor = v;
    },
    rawArgs,
    shared: state.shared,
    evaluate: (expr, range = {}) => evalSeries(expr, state, { from: range.from ?? frame.from, until: range.until ?? frame.until, replacements: frame.replacements }),
    hasFunction: (name) => getFunction(name) !== undefined,
    call: async (name, positional) => {
      const def = getFunction(name);
      if (!def) throw badArgs(`Received request for unknown function: ${name}`);
      return def.call(makeFnContext(state, frame, rawArgs), bindArgs(def, [...positional], new Map()));
    },
    checkDeadline: () => checkDeadline(state),
    generate: (fn, points) => {
      checkGenerated(fn, points);
      state.budget.charge(points, `${fn}()`);
    },
  };
}

/** graphite-web's validateParams: positional args, extra ones into a trailing `multiple` param, then keywords. */
export function bindArgs(def: FunctionDef, args: unknown[], kwargs: ReadonlyMap<string, unknown>): Args {
  const params = def.params;
  const fn = def.name;
  const out = new Map<string, unknown>();
  const last = params[params.length - 1];
  if (args.length + kwargs.size > params.length && !last?.multiple) {
    throw badArgs(`Too many parameters specified for function "${fn}"`);
  }
  for (let i = 0; i < args.length; i++) {
    const p = i < params.length ? params[i]! : last!;
    const v = validate(p, args[i], fn);
    if (p.multiple) {
      const list = (out.get(p.name) as unknown[] | undefined) ?? [];
      list.push(v);
      out.set(p.name, list);
    } else {
      out.set(p.name, v);
    }
  }
  const used = new Set<string>();
  for (const p of params.slice(args.length)) {
    const key = p.pyName !== undefined && !kwargs.has(p.name) && kwargs.has(p.pyName) ? p.pyName : p.name;
    const raw = kwargs.get(key);
    if (raw === undefined || raw === null) {
      if (p.required && !(p.multiple && out.has(p.name))) throw badArgs(`Missing required parameter "${p.name}" for function "${fn}"`);
      continue;
    }
    used.add(key);
    const v = validate(p, raw, fn);
    out.set(p.name, p.multiple ? [v] : v);
  }
  // an explicit `name=None` of a known parameter means "absent" (graphite-web's validator skips it and
  // then reports it as unexpected, but enforces nothing by default, so the call goes ahead)
  const unexpected = [...kwargs.keys()].filter((k) => !used.has(k) && !(kwargs.get(k) === null && params.some((p) => p.name === k || p.pyName === k)));
  if (unexpected.length > 0) throw badArgs(`Unexpected key word arguments: ${unexpected.join(', ')}`);
  return new Args(fn, out);
}

interface NumLit {
  type: 'number';
  value: number;
  isInt: boolean;
}

function isNumLit(v: unknown): v is NumLit {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as NumLit).type === 'number';
}

function isSeriesList(v: unknown): v is TimeSeries[] {
  return Array.isArray(v);
}

function describe(v: unknown): string {
  if (isNumLit(v)) return pyNum(v.value, v.isInt);
  if (isSeriesList(v)) return 'a series list';
  return JSON.stringify(v);
}

function invalid(p: ParamSpec, v: unknown, fn: string): ExprEvalError {
  return badArgs(`Invalid "${p.type}" value specified for function "${fn}" parameter "${p.name}": ${describe(v)}`);
}

function validate(p: ParamSpec, raw: unknown, fn: string): unknown {
  if (raw === null || raw === undefined) {
    if ((p.required || p.multiple) && p.type !== 'any') throw badArgs(`Missing required parameter "${p.name}" for function "${fn}"`);
    return null;
  }
  const plain = isNumLit(raw) ? raw.value : raw;
  if (p.options && p.options.length > 0 && p.type !== 'aggFunc' && p.type !== 'aggOrSeriesFunc' && !p.options.includes(plain as never)) {
    throw badArgs(`Invalid option specified for function "${fn}" parameter "${p.name}": ${describe(raw)}`);
  }
  switch (p.type) {
    case 'seriesList':
    case 'seriesLists':
    case 'series':
      if (!isSeriesList(raw)) throw invalid(p, raw, fn);
      return raw;
    case 'float': {
      if (isSeriesList(raw) || typeof raw === 'boolean') {
        if (typeof raw === 'boolean') return raw ? 1 : 0;
        throw invalid(p, raw, fn);
      }
      const x = typeof plain === 'string' ? pyFloatParse(plain) : (plain as number);
      if (Number.isNaN(x) && !(typeof plain === 'string' && /^[+-]?nan$/i.test(plain.trim()))) throw invalid(p, raw, fn);
      return x;
    }
    case 'integer':
    case 'node': {
      if (isNumLit(raw)) {
        if (!raw.isInt) throw invalid(p, raw, fn);
        return raw.value;
      }
      if (typeof raw === 'boolean') return raw ? 1 : 0;
      if (typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw)) return Number(raw);
      throw invalid(p, raw, fn);
    }
    case 'intOrInf': {
      if (isNumLit(raw) && (raw.isInt || raw.value === Infinity)) return raw.value;
      if (typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw)) return Number(raw);
      if (typeof raw === 'string' && /^\s*\+?inf(inity)?\s*$/i.test(raw)) return Infinity;
      throw invalid(p, raw, fn);
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const l = raw.toLowerCase();
        if (l === 'true') return true;
        if (l === 'false') return false;
        throw badArgs(`Invalid "boolean" value specified for function "${fn}" parameter "${p.name}": ${describe(raw)}`);
      }
      if (isNumLit(raw)) {
        if (raw.value === 0) return false;
        if (raw.value === 1) return true;
      }
      throw invalid(p, raw, fn);
    }
    case 'interval':
      if (typeof raw !== 'string' || !isInterval(raw)) throw invalid(p, raw, fn);
      return raw;
    case 'aggFunc':
      if (typeof raw !== 'string' || !getAggFunc(raw)) throw badArgs(`Invalid "aggFunc" value specified for function "${fn}" parameter "${p.name}": ${describe(raw)}`);
      return raw;
    case 'aggOrSeriesFunc':
      if (typeof raw !== 'string' || !(getAggFunc(raw) || getFunction(raw)?.aggregator)) throw invalid(p, raw, fn);
      return raw;
    case 'string':
    case 'tag':
      if (isSeriesList(raw)) throw invalid(p, raw, fn);
      if (isNumLit(raw)) return pyNum(raw.value, raw.isInt);
      return String(raw);
    case 'intOrInterval':
      if (isNumLit(raw)) {
        if (!raw.isInt) throw invalid(p, raw, fn);
        return raw.value;
      }
      if (typeof raw === 'string' && isInterval(raw)) return raw;
      throw invalid(p, raw, fn);
    case 'nodeOrTag':
      if (isNumLit(raw)) {
        // graphite-web tests `n == int(n)`, so 1.0 is node 1
        if (!Number.isInteger(raw.value)) throw invalid(p, raw, fn);
        return raw.value;
      }
      if (typeof raw === 'string') return raw;
      throw invalid(p, raw, fn);
    case 'date':
    case 'any':
      return plain;
  }
}

/** Python float(str): accepts surrounding space, inf/nan, exponents */
function pyFloatParse(s: string): number {
  const t = s.trim();
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

