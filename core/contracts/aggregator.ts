import type { BaseContext, Lifecycle } from './plugin.js';
import type { SampleBatch } from '../model/sample-batch.js';
import type { Batcher } from '../runtime/batcher.js';
import type { QueryStore } from './store.js';

export interface AggregatorContext extends BaseContext {
  /** where flushed points go (bus event `points`) */
  readonly points: Batcher;
  /** every configured store, by instance id (to check retentions against the flush interval) */
  readonly stores: ReadonlyMap<string, QueryStore>;
  /**
   * Hands over at once the samples every input has parsed but not yet sent (inputs batch them for
   * up to `batch.maxDelayMs`): they reach `add` before this returns. Call it right before taking an
   * interval's data, so a sample received before the boundary counts in that interval.
   */
  drainInputs(): void;
}

/**
 * Aggregators turn samples into points on a flush interval. The core calls `add` for every
 * `samples` batch (synchronously; copy what you keep). `stop()` must perform a final flush into
 * `ctx.points` before it resolves: stores are stopped after aggregators, so nothing is lost.
 */
export interface AggregatorInstance extends Lifecycle {
  add(batch: SampleBatch): void;
}
