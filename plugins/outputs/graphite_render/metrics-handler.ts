/**
 * /metrics/find, /metrics/expand and /metrics/index.json (graphite-web 1.1.8 metrics/views.py, §4.6–4.7),
 * answered from the query store's find() (never from files).
 */
import { turnTaker, type FindNode, type QueryStore } from '../../../core/index.js';
import { ApiError, checkJsonp, graphiteJson, noCache, sendJson } from './respond.js';
import { encodePickle, PickleTuple, type PickleValue } from './pickle.js';
import { AtTimeError, parseAtTime, resolveZone } from '../../shared/attime/attime.js';
import { withDeadline } from './render-handler.js';
import type { Request } from './handler.js';
import type { Params } from './params.js';

/** most milliseconds of finds before the event loop gets a turn */
const TURN_MS = 10;

/**
 * For handlers that run many finds (one per branch, one per query): each is quick, but thousands
 * in a row from a store answering from memory never let I/O in; past the deadline, a 422.
 */
function findTurns(deadline: number): () => Promise<void> {
  const turn = turnTaker(TURN_MS);
  return async () => {
    await turn();
    if (Date.now() > deadline) throw new ApiError(422, 'request time limit exceeded', 'limit_time');
  };
}

const FIND_FORMATS = new Set(['treejson', 'completer', 'nodelist', 'json', 'pickle']);

function intParam(params: Params, name: string, dflt: number): number {
  if (!params.has(name)) return dflt;
  const v = params.get(name)!.trim();
  if (!/^[+-]?\d+$/.test(v)) throw new ApiError(400, `Invalid int value for param ${name}`, 'bad_param');
  return Number(v);
}

function nodeName(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? path : path.slice(dot + 1);
}

async function findLimited(store: QueryStore, pattern: string, max: number, deadline: number): Promise<FindNode[]> {
  const nodes = await withDeadline(store.find(pattern, { limit: max, deadline }), deadline);
  if (nodes.length > max) throw new ApiError(422, `the query matches more than ${max} nodes: narrow it`, 'limit_find');
  return nodes;
}

export async function find({ ctx, params, out, options, deadline }: Request): Promise<void> {
  const format = params.get('format') ?? 'treejson';
  const leavesOnly = intParam(params, 'leavesOnly', 0);
  intParam(params, 'local', 0);
  const wildcards = intParam(params, 'wildcards', 0);
  const position = intParam(params, 'position', -1);
  const automaticVariants = intParam(params, 'automatic_variants', 0);
  const zone = params.has('tz') ? resolveZone(params.get('tz')) : resolveZone(options.timeZone);
  // from/until/now are validated like graphite-web does (a bad one is a 400), then unused: the tree has no time
  const clock = out.now();
  const now = checkTime(params, 'now', zone, clock) ?? clock;
  checkTime(params, 'from', zone, now);
  checkTime(params, 'until', zone, now);
  const jsonp = checkJsonp(params.get('jsonp'));
  let query = params.get('query');
  if (query === undefined) throw new ApiError(400, "Missing required parameter 'query'", 'bad_param');
  if (query === '') throw new ApiError(400, "Required parameter 'query' is empty", 'bad_param');
  if (!FIND_FORMATS.has(format)) throw new ApiError(400, "Invalid value for 'format' parameter", 'bad_param', 'text');

  const dot = query.lastIndexOf('.');
  const basePath = dot >= 0 ? query.slice(0, dot + 1) : '';
  if (format === 'completer') {
    query = query.replaceAll('..', '*.');
    if (!query.endsWith('*')) query += '*';
    if (automaticVariants) query = query.split('.').map((p) => (p.includes(',') && !p.includes('{') ? `{${p}}` : p)).join('.');
  }
  let nodes = await findLimited(out.store, query, options.maxFindResults, deadline);
  if (leavesOnly) nodes = nodes.filter((n) => n.isLeaf);
  // graphite-web sorts by node name only (a stable sort), keeping the finder's order within a name
  const named = nodes.map((n) => ({ ...n, name: nodeName(n.path) }));
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  noCache(ctx);

  switch (format) {
    case 'treejson':
      return sendJson(ctx, graphiteJson(treeJson(named, basePath, wildcards !== 0)), jsonp);
    case 'nodelist': {
      const found = new Set<string>();
      for (const n of named) {
        const parts = n.path.split('.');
        const i = position < 0 ? parts.length + position : position;
        const v = parts[i];
        if (v === undefined) throw new ApiError(400, `position ${position} is outside the matched paths`, 'bad_param');
        found.add(v);
      }
      return sendJson(ctx, graphiteJson({ nodes: [...found].sort() }), jsonp);
    }
    case 'json': {
      const now = Math.floor(out.now());
      const list = named.map((n) => (n.isLeaf ? { path: n.path, is_leaf: true, intervals: [{ start: 0, end: now }] } : { path: n.path, is_leaf: false }));
      list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      return sendJson(ctx, graphiteJson(list), jsonp);
    }
    case 'pickle': {
      // graphite-web's RemoteFinder accepts intervals as (start, end) tuples, so no class needs pickling
      const end = Math.floor(out.now());
      const list: PickleValue[] = named.map((n): PickleValue =>
        n.isLeaf ? { path: n.path, is_leaf: true, intervals: [new PickleTuple([0, end])] } : { path: n.path, is_leaf: false });
      ctx.type = 'application/pickle';
      ctx.body = encodePickle(list);
      return;
    }
    case 'completer': {
      const metrics: Array<Record<string, string>> = named.map((n) => ({
        path: n.isLeaf ? n.path : `${n.path}.`, name: n.name, is_leaf: n.isLeaf ? '1' : '0',
      }));
      if (metrics.length > 1 && wildcards) metrics.push({ name: '*' });
      return sendJson(ctx, graphiteJson({ metrics }), jsonp);
    }
  }
}

function checkTime(params: Params, name: string, tz: string, now: number): number | undefined {
  const v = params.get(name);
  if (v === undefined || v === '-1') return undefined;
  try {
    return parseAtTime(v, { tz, now });
  } catch (err) {
    if (err instanceof AtTimeError) throw new ApiError(400, `Invalid value for param ${name}: ${err.message.slice(0, 120)}`, 'bad_time');
    throw err;
  }
}

interface Named extends FindNode {
  readonly name: string;
}

const BRANCH = { allowChildren: 1, expandable: 1, leaf: 0 };
const LEAF = { allowChildren: 0, expandable: 0, leaf: 1 };

/** graphite-web's tree_json: optional `*` entry, nodes deduplicated by name, branches before leaves. */
export function treeJson(nodes: readonly Named[], basePath: string, wildcards: boolean): object[] {
  const results: object[] = [];
  if (nodes.length > 1 && wildcards) {
    results.push({ text: '*', id: `${basePath}*`, ...(nodes.some((n) => !n.isLeaf) ? BRANCH : LEAF) });
  }
  const seen = new Set<string>();
  const branches: object[] = [];
  const leaves: object[] = [];
  for (const n of nodes) {
    if (seen.has(n.name)) continue;
    seen.add(n.name);
    const text = unquotePlus(n.name);
    if (n.isLeaf) leaves.push({ text, id: basePath + n.name, ...LEAF });
    else branches.push({ text, id: basePath + n.name, ...BRANCH });
  }
  return [...results, ...branches, ...leaves];
}

/** Python's urllib unquote_plus, which graphite-web applies to the display text. */
function unquotePlus(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const replaced = s.replaceAll('+', ' ');
  try {
    return decodeURIComponent(replaced);
  } catch {
    return replaced.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

export async function expand({ ctx, params, out, options, deadline }: Request): Promise<void> {
  intParam(params, 'local', 0);
  const groupByExpr = intParam(params, 'groupByExpr', 0);
  const leavesOnly = intParam(params, 'leavesOnly', 0);
  const jsonp = checkJsonp(params.get('jsonp'));
  const results = new Map<string, Set<string>>();
  let total = 0;
  const turn = findTurns(deadline);
  for (const q of params.getAll('query')) {
    await turn();
    const set = results.get(q) ?? new Set<string>();
    results.set(q, set);
    for (const n of await findLimited(out.store, q, options.maxFindResults, deadline)) {
      if (n.isLeaf || !leavesOnly) set.add(n.path);
    }
    total += set.size;
    if (total > options.maxFindResults) throw new ApiError(422, `the queries match more than ${options.maxFindResults} nodes`, 'limit_find');
  }
  let body: unknown;
  if (groupByExpr) {
    body = { results: Object.fromEntries([...results].map(([q, s]) => [q, [...s].sort()])) };
  } else {
    const all = new Set<string>();
    for (const s of results.values()) for (const p of s) all.add(p);
    body = { results: [...all].sort() };
  }
  noCache(ctx);
  sendJson(ctx, graphiteJson(body), jsonp);
}

/** Every leaf, sorted: a breadth-first walk of find() (bounded by maxFindResults and the deadline). */
export async function indexJson({ ctx, params, out, options, deadline }: Request): Promise<void> {
  const jsonp = checkJsonp(params.get('jsonp'));
  const leaves: string[] = [];
  let frontier = ['*'];
  let visited = 0;
  // one find per branch: a tree of 100,000 series is hundreds of them
  const turn = findTurns(deadline);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const pattern of frontier) {
      await turn();
      for (const n of await findLimited(out.store, pattern, options.maxFindResults, deadline)) {
        if (++visited > options.maxFindResults) throw new ApiError(422, `the tree has more than ${options.maxFindResults} nodes`, 'limit_find');
        if (n.isLeaf) leaves.push(n.path);
        else next.push(`${escapeGlob(n.path)}.*`);
      }
    }
    frontier = next;
  }
  leaves.sort();
  sendJson(ctx, graphiteJson(leaves), jsonp);
}

/** A found path used as a pattern again must not glob: wrap metacharacters so they match themselves. */
function escapeGlob(path: string): string {
  return /[*?[\]{}]/.test(path) ? path.replace(/[*?[\]{}]/g, (c) => `[${c}]`) : path;
}

