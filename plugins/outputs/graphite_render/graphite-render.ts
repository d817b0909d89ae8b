import Router from '@koa/router';
import type { Context } from 'koa';
import { PatternTooBroad, type OutputContext, type OutputInstance } from '../../../core/index.js';
import type { GraphiteRenderOptions } from './options.js';
import { BodyTooLarge, readParams } from './params.js';
import { ApiError, sendError } from './respond.js';
import type { Handler, Request } from './handler.js';
import { render } from './render-handler.js';
import { expand, find, indexJson } from './metrics-handler.js';
import * as tags from './tags-handler.js';
import { functions, version } from './meta-handler.js';
import { PointPool } from './expr/index.js';
import { RenderWorker } from './render-worker.js';

/**
 * The Graphite HTTP API on the core's HTTP server. Every route answers with and without a trailing
 * slash and to GET and POST alike (graphite-web merges query string and form body), except where
 * graphite-web itself restricts the method. The core serves GET /health.
 */
export class GraphiteRender implements OutputInstance {
  private readonly pointsInFlight: PointPool;
  private readonly renderWorker: RenderWorker | undefined;

  constructor(
    private readonly out: OutputContext,
    private readonly options: Readonly<GraphiteRenderOptions>,
  ) {
    this.pointsInFlight = new PointPool(options.maxPointsInFlight);
    this.renderWorker = options.evaluateInWorker
      ? new RenderWorker(this.pointsInFlight, options.renderThreads, (err) => {
          out.stats.addError('render_worker_failed');
          out.log.limited('render_worker_failed', 'render worker failed; its requests answer 503 and the next render starts a new one', { error: err.message });
        }, () => {
          out.stats.count('render_worker_restarts');
          out.log.limited('render_overtime', 'a render computed past maxRequestTimeMs: the render worker was restarted (renders it had begun answer 503, the others go to another worker)');
        })
      : undefined;
  }

  async start(): Promise<void> {
    const router = new Router(this.options.urlPrefix ? { prefix: this.options.urlPrefix } : {});
    const routes: Array<[string, string, Handler]> = [
      ['/render', 'render', render],
      ['/metrics/find', 'find', find],
      ['/metrics', 'find', find],
      ['/metrics/expand', 'expand', expand],
      ['/metrics/index.json', 'index', indexJson],
      ['/tags/tagSeries', 'tags', tags.tagSeries],
      ['/tags/tagMultiSeries', 'tags', tags.tagMultiSeries],
      ['/tags/delSeries', 'tags', tags.delSeries],
      ['/tags/findSeries', 'tags', tags.findSeries],
      ['/tags/autoComplete/tags', 'tags', tags.autoCompleteTags],
      ['/tags/autoComplete/values', 'tags', tags.autoCompleteValues],
      ['/tags', 'tags', tags.tagList],
      ['/functions', 'functions', (r) => functions(r)],
      ['/version', 'version', version],
    ];
    for (const [path, name, handler] of routes) {
      const mw = (ctx: Context) => this.handle(ctx, name, handler);
      router.all(path, mw);
      router.all(`${path}/`, mw);
    }
    // parameterised routes after the fixed ones, so /tags/findSeries is never read as a tag name
    const tagDetails = (ctx: Context) => this.handle(ctx, 'tags', (r) => tags.tagDetails(r, String(ctx.params.tag)));
    router.all('/tags/:tag', tagDetails);
    router.all('/tags/:tag/', tagDetails);
    const fn = (ctx: Context) => this.handle(ctx, 'functions', (r) => functions(r, String(ctx.params.name)));
    router.all('/functions/:name', fn);
    router.all('/functions/:name/', fn);
    this.out.http.mount(router);
    this.renderWorker?.warm();
  }

  /** read when the stats are: renders in progress hold their points until they are answered */
  stats(): Record<string, number> {
    return { points_in_flight: this.pointsInFlight.inFlight };
  }

  async stop(): Promise<void> {
    // the core unmounts routers when the runtime stops; renders still in the worker answer 503
    await this.renderWorker?.stop();
  }

  private async handle(ctx: Context, endpoint: string, handler: Handler): Promise<void> {
    const stats = this.out.stats;
    stats.addReceived(1);
    stats.count(`requests_${endpoint}`);
    const started = Date.now();
    try {
      if (ctx.method !== 'GET' && ctx.method !== 'POST' && ctx.method !== 'HEAD') {
        throw new ApiError(405, 'method not allowed', 'bad_method');
      }
      const params = await readParams(ctx, Math.min(this.options.maxBodyBytes, this.out.http.maxBodyBytes ?? Infinity));
      const req: Request = { ctx, params, out: this.out, options: this.options, deadline: started + this.options.maxRequestTimeMs, pointsInFlight: this.pointsInFlight, renderWorker: this.renderWorker };
      await handler(req);
      ctx.set('X-Content-Type-Options', 'nosniff');
    } catch (caught) {
      // a store's find refusing a pattern is a limit like the handlers' own
      const err = caught instanceof PatternTooBroad ? new ApiError(422, caught.message, 'limit_find') : caught;
      if (err instanceof ApiError) {
        stats.addDropped(err.reason);
        sendError(ctx, err);
      } else if (err instanceof BodyTooLarge) {
        stats.addDropped('body_too_large');
        // the body may still be arriving (chunked, without end): the connection does not carry another request
        ctx.set('Connection', 'close');
        sendError(ctx, new ApiError(413, err.message, 'body_too_large'));
      } else {
        stats.addError(`${endpoint}_failed`);
        this.out.log.limited(`${endpoint}_failed`, 'request failed', { path: ctx.path, error: (err as Error).message });
        sendError(ctx, new ApiError(500, 'internal error', 'internal'));
      }
    } finally {
      stats.gauge(`last_${endpoint}_ms`, Date.now() - started);
    }
  }
}
