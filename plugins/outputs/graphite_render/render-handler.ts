/**
 * GET/POST /render: targets → series → json, csv, raw or pickle (graphite-web 1.1.8 semantics, §4.2).
 */
import { ApiError, checkJsonp, quote, sendJson, sendJsonStream, sendStream } from './respond.js';

/** JSON answers with more datapoints than this are streamed (about 2 MB of JSON and up). */
export const STREAM_POINTS = 100_000;
import { AtTimeError, parseAtTime, resolveZone } from '../../shared/attime/attime.js';
import { renderCsv, renderCsvPieces, renderJsonPieces, renderPickle, renderRaw, type RenderSeries } from './formats.js';
import { ConsolidationError } from './consolidate.js';
import { evaluateTarget, parseTarget, ExprEvalError, ExprParseError, PointBudget, type Expr } from './expr/index.js';
import type { Request } from './handler.js';
import { budgetedStore } from './budget.js';
import type { Params } from './params.js';

const FORMATS = new Set(['json', 'csv', 'raw', 'pickle']);
const IMAGE_FORMATS = new Set(['png', 'svg', 'pdf']);

export interface TimeRange {
  readonly from: number;
  readonly until: number;
  readonly now: number;
  readonly zone: string;
}

/** from/until/now/tz as graphite-web's parseOptions resolves them (swap when reversed; equal is an error). */
export function timeRange(params: Params, clockNow: number, defaultZone: string): TimeRange {
  const zone = params.has('tz') ? resolveZone(params.get('tz')) : resolveZone(defaultZone);
  const tz = zone;
  const parse = (name: string, value: string, now: number): number => {
    try {
      return parseAtTime(value, { tz, now });
    } catch (err) {
      if (err instanceof AtTimeError) throw new ApiError(400, `invalid ${name} ${quote(value, 60)}: ${err.message.slice(0, 120)}`, 'bad_time');
      throw err;
    }
  };
  const now = params.has('now') ? parse('now', params.get('now')!, clockNow) : clockNow;
  const until = params.has('until') ? parse('until', params.get('until')!, now) : now;
  const from = params.has('from') ? parse('from', params.get('from')!, now) : parse('from', '-1d', now);
  const start = Math.min(from, until);
  const end = Math.max(from, until);
  if (start === end) throw new ApiError(400, 'Invalid empty time range', 'bad_time');
  return { from: Math.floor(start), until: Math.floor(end), now: Math.floor(now), zone };
}

/** Python's float(): decimal, exponent, inf, nan; anything else is a 400. */
function pyFloatParam(name: string, v: string): number {
  const s = v.trim().toLowerCase();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return Number(s);
  if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(s)) return NaN;
  throw new ApiError(400, `invalid ${name}: not a number`, 'bad_param');
}

export async function render({ ctx, params, out, options, deadline, pointsInFlight, renderWorker }: Request): Promise<void> {
  const format = params.has('format') ? params.get('format')! : params.has('rawData') ? 'raw' : params.has('pickle') ? 'pickle' : undefined;
  if (format === undefined || IMAGE_FORMATS.has(format) || !FORMATS.has(format)) {
    throw new ApiError(400, 'carbonado does not render images: add format=json (or csv, raw, pickle) to the request', 'no_format', 'text');
  }
  const jsonp = params.has('format') ? checkJsonp(params.get('jsonp')) : undefined;
  const targets = params.getList('target').filter((t) => t !== '');
  if (targets.length > options.maxTargetsPerRequest) {
    throw new ApiError(422, `${targets.length} targets in one request, more than the limit of ${options.maxTargetsPerRequest}`, 'limit_targets');
  }
  const range = timeRange(params, out.now(), options.timeZone);
  const xFilesFactor = params.has('xFilesFactor') ? pyFloatParam('xFilesFactor', params.get('xFilesFactor')!) : 0;
  const mdp = params.get('maxDataPoints');
  const maxDataPoints = mdp !== undefined && /^[0-9]+$/.test(mdp) ? Number(mdp) : undefined;
  // graphite-web divides by it (a 500); 0 would otherwise drop every datapoint without a word
  if (maxDataPoints === 0) throw new ApiError(400, 'maxDataPoints must be a positive integer', 'bad_param');
  const templateArgs: Record<string, string> = {};
  for (const k of params.keys()) if (k.startsWith('template[') && k.endsWith(']')) templateArgs[k.slice(9, -1)] = params.get(k)!;

  // reads, second uses and generated series of every target count against one budget
  const pointBudget = new PointBudget(options.maxPointsPerRequest, pointsInFlight);
  // held until the answer is sent: a large one is streamed after this function returns
  // the request's reads stop once it is answered or its client is gone
  const over = new AbortController();
  ctx.res.once('close', () => {
    pointBudget.release();
    over.abort();
  });
  const store = budgetedStore(out.store, pointBudget, deadline, over.signal);
  // parsed here too, whether evaluated here or in the worker: a bad target is a 400 at once
  const exprs = targets.map((target) => parseOrThrow(target, options.maxExpressionDepth));
  const evalFields = {
    from: range.from, until: range.until, now: range.now, maxSeriesPerTarget: options.maxSeriesPerTarget, xFilesFactor,
    deadline, templateArgs, tz: range.zone, serverTz: resolveZone(options.timeZone),
  };
  // one result per target, each checked as it comes: past maxPointsPerRequest the rest is not evaluated
  const perTarget: AsyncGenerator<readonly RenderSeries[]> = renderWorker
    ? (async function* () {
        yield* await evaluationOf(renderWorker.evaluate(
          { ...evalFields, targets, maxExpressionDepth: options.maxExpressionDepth, maxPointsPerRequest: options.maxPointsPerRequest, hasTags: out.store.tags !== undefined, hasEvents: out.events !== undefined, budgetCells: pointBudget.cells },
          store, out.events,
        ), ctx, deadline);
      })()
    : (async function* () {
        // the targets of one request share it, as graphite-web's requestContext: stacked() in one
        // target starts where the previous target's stack ended (Grafana sends each query as a target)
        const requestState = new Map<string, unknown>();
        for (const expr of exprs) {
          yield await evaluationOf(evaluateTarget(expr, { ...evalFields, store, ...(out.events ? { events: out.events } : {}), requestState, pointBudget }), ctx, deadline);
        }
      })();
  const series: RenderSeries[] = [];
  let points = 0;
  for await (const result of perTarget) {
    for (const s of result) points += s.values.length;
    if (points > options.maxPointsPerRequest) {
      throw new ApiError(422, `the request selects more than ${options.maxPointsPerRequest} datapoints: narrow the time range or the targets`, 'limit_points');
    }
    for (const s of result) series.push(s); // not push(...result): past ~150k series it overflows the stack
  }

  const list: readonly RenderSeries[] = series;
  switch (format) {
    case 'json': {
      let pieces: () => Generator<string>;
      try {
        pieces = renderJsonPieces(list, {
          ...(maxDataPoints !== undefined ? { maxDataPoints } : {}),
          noNullPoints: params.has('noNullPoints'),
          pretty: Boolean(params.get('pretty')),
          infinity: options.jsonInfinity,
        });
      } catch (err) {
        if (err instanceof ConsolidationError) throw new ApiError(400, err.message, 'bad_param');
        throw err;
      }
      // a large answer is streamed (chunked) as it is built; a small one keeps its Content-Length
      if (points > STREAM_POINTS) sendJsonStream(ctx, pieces(), jsonp);
      else sendJson(ctx, [...pieces()].join(''), jsonp);
      break;
    }
    case 'csv':
      if (points > STREAM_POINTS) sendStream(ctx, 'text/csv', renderCsvPieces(list, range.zone));
      else {
        ctx.type = 'text/csv';
        ctx.body = renderCsv(list, range.zone);
      }
      break;
    case 'raw':
      ctx.type = 'text/plain';
      ctx.body = renderRaw(list);
      break;
    case 'pickle':
      ctx.type = 'application/pickle';
      ctx.body = renderPickle(list);
      break;
  }
}

function parseOrThrow(target: string, maxDepth: number): Expr {
  try {
    return parseTarget(target, { maxDepth });
  } catch (err) {
    if (err instanceof ExprParseError) {
      const depth = /deep|depth|nest/i.test(err.message);
      throw new ApiError(400, `invalid target: ${err.message.slice(0, 200)}`, depth ? 'limit_depth' : 'bad_target');
    }
    throw err;
  }
}

/** the evaluation's answer, or its error as the HTTP answer it maps to */
async function evaluationOf<T>(evaluation: Promise<T>, ctx: Request['ctx'], deadline: number): Promise<T> {
  try {
    return await withDeadline(evaluation, deadline);
  } catch (err) {
    if (err instanceof ExprEvalError) {
      if (err.status === 503) {
        ctx.set('Retry-After', '1');
        throw new ApiError(503, err.message, /abandoned/.test(err.message) ? 'abandoned' : /render worker was restarted/.test(err.message) ? 'worker_restarted' : /stopping/.test(err.message) ? 'stopping' : 'limit_busy');
      }
      const reason = err.status !== 422 ? 'bad_target' : /deadline/i.test(err.message) ? 'limit_time' : /datapoints/i.test(err.message) ? 'limit_points' : 'limit_series';
      throw new ApiError(err.status, err.message.slice(0, 300), reason);
    }
    throw err;
  }
}

/** the longest delay setTimeout takes as given */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Rejects with 422 when the deadline passes first (the work itself stops at its next deadline check). */
export function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  const ms = deadline - Date.now();
  if (ms <= 0) {
    p.catch(() => undefined); // its outcome no longer matters, but must not surface as unhandled
    return Promise.reject(new ApiError(422, 'request time limit exceeded', 'limit_time'));
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Node fires a longer timeout at once (past 2³¹-1 ms, ~24.8 days): such a limit means none
    if (ms <= MAX_TIMER_MS) timer = setTimeout(() => reject(new ApiError(422, 'request time limit exceeded', 'limit_time')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
