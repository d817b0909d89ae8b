import type { BaseContext, Lifecycle } from './plugin.js';
import type { SampleBatch } from '../model/sample-batch.js';
import type { Batcher } from '../runtime/batcher.js';

export interface AggregatorContext extends BaseContext {
  /** where flushed points go (bus event `points`) */
  readonly points: Batcher;
}

/**
 * Aggregators turn samples into points on a flush interval. The core calls `add` for every
 * `samples` batch (synchronously; copy what you keep). `stop()` must perform a final flush into
 * `ctx.points` before it resolves: stores are stopped after aggregators, so nothing is lost.
 */
export interface AggregatorInstance extends Lifecycle {
  add(batch: SampleBatch): void;
}
