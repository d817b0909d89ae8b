import type { Context } from 'koa';
import type { OutputContext } from '../../../core/index.js';
import type { PointPool } from './expr/index.js';
import type { RenderWorker } from './render-worker.js';
import type { GraphiteRenderOptions } from './options.js';
import type { Params } from './params.js';

/** What every endpoint handler receives: the request, its merged parameters and the plugin's world. */
export interface Request {
  readonly ctx: Context;
  readonly params: Params;
  readonly out: OutputContext;
  readonly options: Readonly<GraphiteRenderOptions>;
  /** Date.now() after which the request gives up with 422 */
  readonly deadline: number;
  /** the datapoints all render requests in progress hold (maxPointsInFlight) */
  readonly pointsInFlight: PointPool;
  /** where /render evaluates its targets (undefined: on the main thread) */
  readonly renderWorker: RenderWorker | undefined;
}

export type Handler = (req: Request) => Promise<void>;
