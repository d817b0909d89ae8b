import type { IncomingMessage } from 'node:http';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { EventRecord, EventStore, OutputContext, OutputInstance } from '../../../core/index.js';
import { checkAccess, type AccessPolicy } from './access.js';
import { AtTimeError, parseAtTime } from '../../shared/attime/attime.js';
import { parseEventBody, parseQueryTags } from './event-input.js';
import type { GrafanaAnnotationsOptions } from './options.js';
import { GrafanaPusher } from './push.js';

/** What `/events/get_data` answers per event (graphite-web's shape: integer `when`, array `tags`). */
export interface EventJson {
  when: number;
  what: string;
  data: string;
  tags: string[];
  id: number;
}

const JSONP_CALLBACK = /^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,4}$/;

/**
 * Graphite's events API on the shared HTTP server, backed by whichever store provides `events`:
 * POST /events/ and DELETE /events/<id> (protected), GET /events/get_data and GET /events/<id>.
 * Each stored event is announced on the bus (`annotation`), which push mode listens to.
 */
const NO_EVENT_STORE = 'no store provides events: add a store of type sqlite_events (or set query.eventStore)';

export class GrafanaAnnotationsOutput implements OutputInstance {
  private readonly policy: AccessPolicy;
  private readonly pusher: GrafanaPusher | undefined;
  private readonly onAnnotation = (e: EventRecord) => this.pusher?.enqueue(e);
  private store: EventStore | undefined;

  constructor(
    private readonly ctx: OutputContext,
    private readonly options: Readonly<GrafanaAnnotationsOptions>,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.policy = { token: secret(options.token, options.tokenEnv, env), loopback: options.loopback };
    // at build time, so that check-config says so and start-up refuses before any store starts
    // (a statsd aggregator's stop flush had written its files by the time start() refused)
    if (!ctx.events) throw new Error(NO_EVENT_STORE);
    const p = options.push;
    if (p.url !== '') {
      this.pusher = new GrafanaPusher(
        {
          endpoint: `${p.url.replace(/\/+$/, '')}/api/annotations`,
          token: secret(p.token, p.tokenEnv, env),
          dashboardUid: p.dashboardUid,
          panelId: p.panelId,
          tags: p.tags,
          queueMax: p.queueMax,
          retries: p.retries,
          retryDelayMs: p.retryDelayMs,
          timeoutMs: p.timeoutMs,
        },
        ctx.stats,
        ctx.log,
      );
    }
  }

  async start(): Promise<void> {
    this.store = this.ctx.events;
    if (!this.store) throw new Error(NO_EVENT_STORE);
    // Mounted on every start: the core drops all routers when a runtime stops. Handlers read
    // `this.store`, which stop() clears, so a request that races a stop gets a 503.
    this.ctx.http.mount(this.router());
    this.ctx.bus.on('annotation', this.onAnnotation);
    if (this.policy.token === undefined) {
      this.ctx.log.info('no events token configured: POST/DELETE /events accepted from loopback only');
    }
  }

  async stop(): Promise<void> {
    this.ctx.bus.off('annotation', this.onAnnotation);
    this.store = undefined;
    await this.pusher?.stop();
  }

  stats(): Record<string, number> {
    return this.pusher ? { push_queue: this.pusher.queued } : {};
  }

  private router(): Router {
    const r = new Router();
    // A store failure (disk full, file removed) is counted and answered as JSON; the SQLite
    // transaction was rolled back, so nothing half-stored remains.
    r.use(async (c, next) => {
      try {
        await next();
      } catch (err) {
        this.ctx.stats.addError('store');
        this.ctx.log.limited('store', 'events store failed', { path: c.path, error: (err as Error).message });
        reply(c, 500, { error: 'the events store failed; see the carbonado log' });
      }
    });
    r.post(['/events', '/events/'], (c) => this.create(c));
    r.get(['/events/get_data', '/events/get_data/'], (c) => this.list(c));
    r.get(['/events/:id', '/events/:id/'], (c, next) => this.detail(c, next));
    r.delete(['/events/:id', '/events/:id/'], (c, next) => this.remove(c, next));
    // Other methods get a JSON 405 (the router's own answer would be plain text).
    r.all(['/events', '/events/'], (c) => methodNotAllowed(c, 'POST'));
    r.all(['/events/get_data', '/events/get_data/'], (c) => methodNotAllowed(c, 'GET, HEAD'));
    r.all(['/events/:id', '/events/:id/'], (c, next) => (eventId(c) === undefined ? next() : methodNotAllowed(c, 'GET, HEAD, DELETE')));
    return r;
  }

  private async create(c: Context): Promise<void> {
    const store = this.guard(c, 'write');
    if (!store) return;
    const limit = Math.min(this.options.maxBodyBytes, this.ctx.http.maxBodyBytes ?? Infinity);
    const body = await readBody(c.req, limit);
    if (body === undefined) {
      this.ctx.stats.addDropped('body_too_large');
      // the rest of a chunked body may never end: the connection does not carry another request
      c.set('Connection', 'close');
      return reply(c, 413, { error: `body larger than ${limit} bytes` });
    }
    const parsed = parseEventBody(body, { now: this.ctx.now(), unknownFields: this.options.unknownFields });
    if (!parsed.ok) {
      this.ctx.stats.addDropped('invalid_event');
      this.ctx.log.limited('invalid_event', 'event refused', { reason: parsed.error });
      return reply(c, 400, { error: parsed.error });
    }
    const event = await store.addEvent(parsed.value);
    this.ctx.stats.addReceived(1);
    try {
      this.ctx.bus.emit('annotation', event);
    } catch (err) {
      // another plugin's listener threw; the event is stored, so the producer still gets its 200
      this.ctx.stats.addError('bus_listener');
      this.ctx.log.limited('bus_listener', 'an annotation listener failed', { error: (err as Error).message });
    }
    // graphite-web answers an empty 200; the stored event is more useful and breaks no client
    reply(c, 200, toJson(event));
  }

  private async list(c: Context): Promise<void> {
    const store = this.guard(c, 'read');
    if (!store) return;
    const now = this.ctx.now();
    const from = timeParam(c, 'from', 0, now);
    const until = timeParam(c, 'until', now, now);
    if (typeof from === 'string' || typeof until === 'string') {
      return reply(c, 400, { error: typeof from === 'string' ? from : (until as string) });
    }
    const tagsParam = lastParam(c, 'tags');
    const tags = tagsParam === undefined ? undefined : parseQueryTags(tagsParam);
    // graphite-web: `set=union` is any tag, anything else all of them. Unlike graphite-web's
    // default, a tag no event carries is not ignored: it matches nothing (grafana#1809).
    const tagMatch = lastParam(c, 'set') === 'union' ? 'any' : 'all';
    const jsonp = lastParam(c, 'jsonp');
    if (jsonp !== undefined && !JSONP_CALLBACK.test(jsonp)) return reply(c, 400, { error: 'jsonp must be a JavaScript identifier' });

    const events = tags !== undefined && tags.length === 0 ? [] : await store.queryEvents({ from, until, tags, tagMatch });
    this.ctx.stats.count('queries');
    const body = JSON.stringify(events.map(toJson));
    if (jsonp !== undefined) {
      c.type = 'text/javascript';
      // as the render API answers: an answer cannot begin with bytes a plugin could read as its own format
      c.body = `/**/${jsonp}(${body})`;
      return;
    }
    c.type = 'application/json';
    c.body = body;
  }

  private async detail(c: Context, next: () => Promise<unknown>): Promise<void> {
    const id = eventId(c);
    if (id === undefined) return void (await next());
    const store = this.guard(c, 'read');
    if (!store) return;
    const e = await store.getEvent(id);
    if (!e) return reply(c, 404, { error: 'Event matching query does not exist' });
    reply(c, 200, { id: e.id, when: isoTime(e.when), what: e.what, data: e.data, tags: [...e.tags] });
  }

  private async remove(c: Context, next: () => Promise<unknown>): Promise<void> {
    const id = eventId(c);
    if (id === undefined) return void (await next());
    const store = this.guard(c, 'write');
    if (!store) return;
    if (!(await store.deleteEvent(id))) return reply(c, 404, { error: 'Event matching query does not exist' });
    this.ctx.stats.count('deleted');
    reply(c, 200, { id, deleted: true });
  }

  /** Access rules, then the store; answers the request itself and returns undefined when refused. */
  private guard(c: Context, op: 'read' | 'write'): EventStore | undefined {
    if (op === 'write' || this.options.readAccess === 'token') {
      const d = checkAccess(this.policy, { remoteAddress: c.req.socket.remoteAddress, authorization: c.get('authorization') || undefined, origin: c.get('origin') || undefined });
      if (!d.ok) {
        this.ctx.stats.count(d.status === 401 ? 'unauthorized' : 'forbidden');
        if (d.status === 401) c.set('WWW-Authenticate', 'Bearer realm="carbonado"');
        reply(c, d.status, { error: d.error });
        return undefined;
      }
    }
    if (!this.store) {
      reply(c, 503, { error: 'events are not available (stopping)' });
      return undefined;
    }
    return this.store;
  }
}

export function toJson(e: EventRecord): EventJson {
  // graphite-web truncates to whole seconds; Grafana's backend decodes `when` as int64
  return { when: Math.floor(e.when), what: e.what, data: e.data, tags: [...e.tags], id: e.id };
}

/** Django's JSON form of a UTC datetime: seconds, milliseconds only when there is a fraction, `Z`. */
export function isoTime(when: number): string {
  const micros = Math.round(when * 1e6);
  const whole = Math.floor(micros / 1e6);
  const frac = micros - whole * 1e6;
  const base = new Date(whole * 1000).toISOString().slice(0, 19);
  return frac === 0 ? `${base}Z` : `${base}.${String(Math.floor(frac / 1000)).padStart(3, '0')}Z`;
}

function secret(value: string, envName: string, env: NodeJS.ProcessEnv): string | undefined {
  if (value !== '') return value;
  const v = envName === '' ? undefined : env[envName];
  return v === undefined || v === '' ? undefined : v;
}

function methodNotAllowed(c: Context, allow: string): void {
  c.set('Allow', allow);
  reply(c, 405, { error: `method not allowed (allowed: ${allow})` });
}

function reply(c: Context, status: number, body: unknown): void {
  c.status = status;
  c.type = 'application/json';
  c.body = JSON.stringify(body);
}

/** Django's QueryDict.get: the last value of a repeated key. */
function lastParam(c: Context, name: string): string | undefined {
  const v = c.query[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Returns seconds, or an error message for the client. */
function timeParam(c: Context, name: string, dflt: number, now: number): number | string {
  const v = lastParam(c, name);
  if (v === undefined || v === '') return dflt;
  try {
    const t = parseAtTime(v, { now });
    return Number.isFinite(t) ? t : `invalid ${name}`;
  } catch (err) {
    // a fixed message: the client's text is never echoed back
    if (err instanceof AtTimeError) return `invalid ${name}: expected a Graphite time such as -1h, now-1d, 20231101 or epoch seconds`;
    throw err;
  }
}

function eventId(c: Context): number | undefined {
  const raw = (c.params as Record<string, string | undefined>)['id'] ?? '';
  if (!/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** The whole body as text, or undefined when it exceeds `limit` bytes (the rest is discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  // Not reading at all lets Node discard the body after the response, keeping the connection usable.
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      req.off('error', onError);
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => reject(err);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
