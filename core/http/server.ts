import Koa from 'koa';
import Router from '@koa/router';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpMount } from '../contracts/output.js';
import type { Logger } from '../log.js';
import { CarbonadoError, ErrorCode } from '../errors.js';
import { formatAddress } from '../net/listen.js';

/**
 * The one HTTP server. Outputs (and any instance) mount @koa/router routers; the core adds
 * GET /health and GET /stats. Unhandled errors become JSON bodies, never HTML, never echoing input.
 */
export class HttpServer implements HttpMount {
  readonly app = new Koa();
  private readonly core = new Router();
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly mounted: Koa.Middleware[] = [];
  /** requests refused for a body over maxBodyBytes, by the server itself (plugins count their own) */
  bodiesRefused = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly log: Logger,
    health: () => { status: 'ok' | 'starting' | 'stopping'; [k: string]: unknown },
    stats: () => unknown,
    private readonly maxConnections = 1000,
    readonly maxBodyBytes = 1_048_576,
  ) {
    this.app.proxy = false;
    this.app.silent = true;
    this.app.use(async (ctx, next) => {
      ctx.set('X-Content-Type-Options', 'nosniff');
      try {
        await next();
      } catch (err) {
        const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string };
        const status = e.status ?? e.statusCode ?? 500;
        ctx.status = status;
        ctx.type = 'application/json';
        ctx.body = { error: status < 500 && e.expose !== false ? String(e.message ?? 'bad request') : 'internal error' };
        if (status >= 500) this.log.limited('http_500', 'request failed', { path: ctx.path, error: (err as Error).message });
      }
    });
    // the port opens before the outputs mount their routes (a store replaying its WAL can take a
    // while): until then an unknown path is "not yet", not "no such thing", or Grafana would show
    // its datasource broken during every restart
    this.app.use(async (ctx, next) => {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && health().status === 'starting') {
        ctx.status = 503;
        ctx.set('Retry-After', '1');
        ctx.type = 'application/json';
        ctx.body = { error: 'carbonado is starting' };
      }
    });
    // a body declared longer than the server takes is refused before any plugin reads it
    this.app.use(async (ctx, next) => {
      const declared = Number(ctx.get('content-length') || 0);
      if (declared > this.maxBodyBytes) {
        this.refuseBody(ctx.path, declared);
        ctx.status = 413;
        ctx.type = 'application/json';
        ctx.body = { error: this.tooLarge(ctx.get('content-length')) };
        // the body is not read: the connection cannot carry another request after it
        ctx.set('Connection', 'close');
        return;
      }
      await next();
    });
    // routers may be mounted after the server listens (outputs start after it), so dispatch is dynamic
    this.app.use((ctx, next) => dispatch(this.mounted, 0, ctx, next));
    this.core.get('/health', (ctx) => {
      const h = health();
      ctx.status = h.status === 'ok' ? 200 : 503;
      ctx.body = h;
    });
    this.core.get('/stats', (ctx) => {
      ctx.body = stats();
    });
    this.mount(this.core);
  }

  mount(router: Router): void {
    // throw: 405/501 answers go through the JSON error handler like every other error
    this.mounted.push(router.routes() as unknown as Koa.Middleware, router.allowedMethods({ throw: true }) as unknown as Koa.Middleware);
  }

  /** Removes every router mounted after the core's own (used when a runtime stops). */
  unmountAll(): void {
    this.mounted.splice(2);
  }

  private refuseBody(path: string, bytes: number): void {
    this.bodiesRefused++;
    this.log.limited('body_too_large', 'request body larger than http.maxBodyBytes refused (413)', { path, bytes, maxBodyBytes: this.maxBodyBytes });
  }

  private tooLarge(declared: string): string {
    return `request body of ${declared.trim()} bytes is larger than http.maxBodyBytes (${this.maxBodyBytes})`;
  }

  async listen(): Promise<string> {
    const handle = this.app.callback();
    const server = createServer(handle);
    // `Expect: 100-continue`: Node would invite the upload before the app could refuse it
    server.on('checkContinue', (req, res) => {
      const declared = req.headers['content-length'] ?? '0';
      if (Number(declared) > this.maxBodyBytes) {
        this.refuseBody((req.url ?? '').split('?')[0]!, Number(declared));
        res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close', 'X-Content-Type-Options': 'nosniff' });
        res.end(JSON.stringify({ error: this.tooLarge(declared) }));
        return;
      }
      res.writeContinue();
      void handle(req, res);
    });
    server.keepAliveTimeout = 65_000;
    // descriptors are shared with the stores and the WAL: a flood of sockets must not take them all
    server.maxConnections = this.maxConnections;
    // a client that sends no request, or reads no answer, for this long is disconnected
    server.headersTimeout = 20_000;
    server.timeout = 120_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const what = `http: cannot listen on tcp ${formatAddress(this.host, this.port)}`;
        reject(new CarbonadoError(err.code === 'EADDRINUSE' ? ErrorCode.ADDRESS_IN_USE : ErrorCode.PLUGIN_START, `${what}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`, { cause: err, plugin: 'http' }));
      });
      server.listen(this.port, this.host, () => resolveListen());
    });
    this.server = server;
    return this.address();
  }

  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `http://${formatAddress(a.address, a.port)}` : '';
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((r) => {
      server.close(() => r());
      // idle keep-alive sockets would hold close() open until they time out
      for (const s of this.sockets) if (!(s as unknown as { _httpMessage?: unknown })._httpMessage) s.destroy();
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 2000).unref();
    });
  }
}

function dispatch(chain: Koa.Middleware[], i: number, ctx: Koa.Context, next: Koa.Next): Promise<unknown> {
  if (i >= chain.length) return next();
  return Promise.resolve(chain[i]!(ctx, () => dispatch(chain, i + 1, ctx, next)));
}
