import type { Context } from 'koa';
import { Readable } from 'node:stream';

/**
 * Response helpers shared by every endpoint. Errors are JSON (`{"error": ...}`, graphite-web's shape)
 * or text/plain, always with X-Content-Type-Options: nosniff, and never HTML: graphite-web's XSS
 * history (CVE-2022-4728/4729/4730, #2870) came from echoing parameters into HTML error pages.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** stable snake_case reason, counted in the instance's stats */
    readonly reason: string,
    readonly as: 'json' | 'text' = 'json',
  ) {
    super(message);
  }
}

/** Input is quoted into messages only clipped and JSON-escaped (no raw reflection, bounded size). */
export function quote(s: string, max = 120): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** jsonp callbacks are identifiers and dotted paths only: nothing that can break out of a script context. */
const CALLBACK = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$]{0,63}){0,7}$/;

export function checkJsonp(cb: string | undefined): string | undefined {
  if (cb === undefined || cb === '') return undefined;
  if (!CALLBACK.test(cb)) throw new ApiError(400, 'invalid jsonp callback name: letters, digits, _ and $ only (dotted paths allowed)', 'bad_jsonp');
  return cb;
}

export function sendJson(ctx: Context, body: string, jsonp?: string, status = 200): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.status = status;
  if (jsonp) {
    // the comment guard defeats the "Rosetta Flash" class of jsonp attacks
    ctx.type = 'text/javascript';
    ctx.body = `/**/${jsonp}(${body})`;
  } else {
    ctx.type = 'application/json';
    ctx.body = body;
  }
}

/** Pieces built between two turns of the event loop while an answer streams (~512 KiB, a few ms). */
const PIECES_PER_TURN = 8;

/**
 * sendJson for an answer made of pieces: sent chunked, each piece built when the socket wants more.
 * The pieces are handed over from an async generator that gives the event loop a turn every few
 * pieces: a stream fed synchronously is drained in one loop as long as the socket takes the writes
 * (on loopback it always does), which kept other requests and the inputs waiting for the whole
 * answer (1.5 s for 6M points).
 */
export function sendJsonStream(ctx: Context, pieces: Iterable<string>, jsonp?: string): void {
  sendStream(ctx, jsonp ? 'text/javascript' : 'application/json', pieces, jsonp);
}

/** A large answer sent (chunked) as it is built, yielding to the event loop between pieces. */
export function sendStream(ctx: Context, type: string, pieces: Iterable<string>, jsonp?: string): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.status = 200;
  ctx.type = type;
  ctx.body = Readable.from(yielding(pieces, jsonp), { objectMode: false });
}

export async function* yielding(pieces: Iterable<string>, jsonp: string | undefined): AsyncGenerator<string> {
  if (jsonp) yield `/**/${jsonp}(`;
  let n = 0;
  for (const piece of pieces) {
    yield piece;
    if (++n % PIECES_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (jsonp) yield ')';
}

export function sendError(ctx: Context, err: ApiError): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.status = err.status;
  if (err.as === 'text') {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${err.message}\n`;
  } else {
    ctx.type = 'application/json';
    ctx.body = safeStringify({ error: err.message });
  }
}

export function noCache(ctx: Context): void {
  ctx.set('Pragma', 'no-cache');
  ctx.set('Cache-Control', 'no-cache');
}

const UNSAFE = /[<>&\u2028\u2029]/g;
const UNSAFE_TEST = /[<>&\u2028\u2029]/;

/**
 * JSON text with `<`, `>`, `&` and the JS line separators written as \u escapes: still the same JSON
 * value, but no byte sequence a browser could ever read as markup, whatever the content type.
 */
export function safeJsonText(json: string): string {
  return UNSAFE_TEST.test(json) ? json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

export function safeStringify(value: unknown): string {
  return safeJsonText(JSON.stringify(value));
}

/** JSON.stringify with graphite-web's number rules: NaN → null, ±Infinity → ±1e9999. */
export function graphiteJson(value: unknown, pretty = false): string {
  const INF = '__carbonado_inf__';
  let sawInf = false;
  const out = JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'number' && !Number.isFinite(v)) {
        if (Number.isNaN(v)) return null;
        sawInf = true;
        return v > 0 ? INF : `-${INF}`;
      }
      return v;
    },
    pretty ? 2 : undefined,
  );
  return safeJsonText(sawInf ? out.replaceAll(`"-${INF}"`, '-1e9999').replaceAll(`"${INF}"`, '1e9999') : out);
}
