/**
 * The /tags API (graphite-web 1.1.8 tags/views.py and tags/base.py, §4.8), read from the query store's
 * TagQuery. Writes (tagSeries, tagMultiSeries, delSeries) answer what graphite-web answers but persist
 * nothing: carbonado's tag index is built from the series the stores hold, so a name becomes known by
 * writing points to it, and goes away with its data.
 */
import { codePointCompare, compileTagQuery, isBadName, pythonAnchoredRegex, normalizeSeriesName, parseTagTerm, parseTags, runWithTimeLimit, TagExpressionError, type TagQuery, type TagTerm } from '../../../core/index.js';
import { ApiError, graphiteJson, sendJson } from './respond.js';
import { withDeadline } from './render-handler.js';
import type { Request } from './handler.js';
import type { Params } from './params.js';

const AUTOCOMPLETE_LIMIT = 100;

function tagIndex(req: Request): TagQuery | undefined {
  return req.out.store.tags;
}

function requirePost(req: Request): void {
  if (req.ctx.method !== 'POST') throw new ApiError(405, 'method not allowed: use POST', 'bad_method');
}

function limitParam(params: Params, dflt: number | undefined): number | undefined {
  const v = params.get('limit');
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v.trim())) throw new ApiError(400, 'invalid limit: an integer is required', 'bad_param');
  return Number(v);
}

function normalizeOrThrow(path: string): string {
  const n = normalizeSeriesName(path);
  if (isBadName(n)) throw new ApiError(400, `Cannot parse path: ${n.detail}`, 'bad_name');
  return n;
}

export async function tagSeries(req: Request): Promise<void> {
  requirePost(req);
  const path = req.params.get('path');
  if (!path) throw new ApiError(400, 'no path specified', 'bad_param');
  sendJson(req.ctx, graphiteJson(normalizeOrThrow(path)));
}

export async function tagMultiSeries(req: Request): Promise<void> {
  requirePost(req);
  const paths = req.params.getList('path');
  if (paths.length === 0) throw new ApiError(400, 'no paths specified', 'bad_param');
  sendJson(req.ctx, graphiteJson(paths.map(normalizeOrThrow)));
}

export async function delSeries(req: Request): Promise<void> {
  requirePost(req);
  if (req.params.getList('path').length === 0) throw new ApiError(400, 'no path specified', 'bad_param');
  sendJson(req.ctx, 'true');
}

function parseTerms(exprs: readonly string[]): TagTerm[] {
  try {
    const terms = exprs.map(parseTagTerm);
    compileTagQuery(terms);
    return terms;
  } catch (err) {
    if (err instanceof TagExpressionError) throw new ApiError(400, err.message.slice(0, 300), 'bad_tag_expr');
    throw err;
  }
}

async function findTagged(req: Request, exprs: readonly string[]): Promise<string[]> {
  const terms = parseTerms(exprs);
  const index = tagIndex(req);
  if (!index) return [];
  const names = await withDeadline(index.findTagged(terms, { limit: req.options.maxFindResults }), req.deadline);
  if (names.length > req.options.maxFindResults) throw new ApiError(422, `the expressions match more than ${req.options.maxFindResults} series`, 'limit_find');
  return names;
}

export async function findSeries(req: Request): Promise<void> {
  const exprs = req.params.getList('expr');
  if (exprs.length === 0) throw new ApiError(400, 'no tag expressions specified', 'bad_param');
  const names = await findTagged(req, exprs);
  sendJson(req.ctx, graphiteJson([...names].sort(codePointCompare)));
}

/** graphite-web anchors these Python regexes as `^(filter)`; an invalid regex is the client's error. */
function anchored(filter: string | undefined): RegExp | undefined {
  if (!filter) return undefined;
  try {
    return pythonAnchoredRegex(filter);
  } catch {
    throw new ApiError(400, 'invalid filter: not a regular expression', 'bad_param');
  }
}

export async function tagList(req: Request): Promise<void> {
  if (req.ctx.method !== 'GET') throw new ApiError(405, 'method not allowed: use GET', 'bad_method');
  const re = anchored(req.params.get('filter'));
  const limit = limitParam(req.params, undefined);
  const names = (await tagIndex(req)?.tagNames()) ?? [];
  const keep = re ? runWithTimeLimit('the filter', () => names.map((t) => re.test(t))) : undefined;
  let list = names.map((tag, i) => ({ id: i + 1, tag })).filter((_t, i) => !keep || keep[i]);
  if (limit !== undefined) list = list.slice(0, limit);
  sendJson(req.ctx, graphiteJson(list));
}

export async function tagDetails(req: Request, tag: string): Promise<void> {
  if (req.ctx.method !== 'GET') throw new ApiError(405, 'method not allowed: use GET', 'bad_method');
  const index = tagIndex(req);
  const names = (await index?.tagNames()) ?? [];
  const id = names.indexOf(tag);
  if (!index || id < 0) return sendJson(req.ctx, 'null');
  const re = anchored(req.params.get('filter'));
  const limit = limitParam(req.params, undefined);
  // without a filter the index can stop at `limit` values; with one it must see them all
  let values = await index.tagValues(tag, re ? undefined : { limit });
  if (re) {
    const keep = runWithTimeLimit('the filter', () => values.map((v) => re.test(v)));
    values = values.filter((_v, i) => keep[i]);
  }
  if (limit !== undefined) values = values.slice(0, limit);
  const out: Array<{ id: number; value: string; count: number }> = [];
  // counting every value of a tag costs as much as listing them: worth it only for many values
  const counts = values.length > 512 ? await index.tagValueCounts?.(tag) : undefined;
  for (let i = 0; i < values.length; i++) {
    let count = counts?.get(values[i]!);
    if (count === undefined) {
      count = (await withDeadline(index.findTagged([{ tag, op: '=', value: values[i]! }]), req.deadline)).length;
      // a turn of the event loop now and then: awaiting a settled promise never yields to I/O
      if (i % 512 === 511) await new Promise((resolve) => setImmediate(resolve));
    }
    out.push({ id: i + 1, value: values[i]!, count });
  }
  sendJson(req.ctx, graphiteJson({ id: id + 1, tag, values: out }));
}

export async function autoCompleteTags(req: Request): Promise<void> {
  const exprs = req.params.getList('expr');
  const prefix = req.params.get('tagPrefix') ?? '';
  const limit = limitParam(req.params, AUTOCOMPLETE_LIMIT)!;
  let result: string[];
  if (exprs.length === 0) {
    result = ((await tagIndex(req)?.tagNames()) ?? []).filter((t) => t.startsWith(prefix));
  } else {
    const searched = new Set(parseTerms(exprs).map((t) => t.tag));
    const found = new Set<string>();
    for (const name of await findTagged(req, exprs)) {
      for (const tag of ['name', ...parseTags(name).tags.keys()]) {
        if (!searched.has(tag) && tag.startsWith(prefix)) found.add(tag);
      }
    }
    result = [...found];
  }
  sendJson(req.ctx, graphiteJson(result.sort(codePointCompare).slice(0, limit)));
}

export async function autoCompleteValues(req: Request): Promise<void> {
  const exprs = req.params.getList('expr');
  const tag = req.params.get('tag');
  if (!tag) throw new ApiError(400, 'no tag specified', 'bad_param');
  const prefix = req.params.get('valuePrefix') ?? '';
  const limit = limitParam(req.params, AUTOCOMPLETE_LIMIT)!;
  let result: string[];
  if (exprs.length === 0) {
    result = ((await tagIndex(req)?.tagValues(tag, { prefix, limit })) ?? []).filter((v) => v.startsWith(prefix));
  } else {
    const found = new Set<string>();
    for (const name of await findTagged(req, [...exprs, `${tag}!=`])) {
      const parsed = parseTags(name);
      const v = tag === 'name' ? parsed.metric : parsed.tags.get(tag);
      if (v !== undefined && v.startsWith(prefix)) found.add(v);
    }
    result = [...found];
  }
  sendJson(req.ctx, graphiteJson(result.sort(codePointCompare).slice(0, limit)));
}
