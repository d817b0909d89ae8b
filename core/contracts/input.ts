import type { BaseContext, Lifecycle } from './plugin.js';
import type { Batcher } from '../runtime/batcher.js';
import type { SampleBatcher } from '../runtime/sample-batcher.js';
import type { SeriesIds } from '../model/series-ids.js';

/**
 * Inputs turn bytes into batches. They never emit on the bus by hand: they append to the batchers
 * the core gives them, which emit columnar batches of bounded size and delay.
 */
export interface InputContext extends BaseContext {
  /** datapoints (Carbon model) → bus event `points` */
  readonly points: Batcher;
  /** raw samples (counters, timers, gauges, sets) → bus event `samples`, consumed by aggregators */
  readonly samples: SampleBatcher;
  /** the process-wide series ids (the runtime always gives it; hand-made test contexts may not) */
  readonly series?: SeriesIds;
  /**
   * True while some store is over its high-water mark. Stream inputs pause reading while it is
   * true and resume on the `pressure` bus event that clears it; datagram inputs count drops.
   */
  underPressure(): boolean;
}

export interface InputInstance extends Lifecycle {
  /** Optional: the addresses actually bound (useful with port 0), e.g. ["tcp://127.0.0.1:40123"] */
  listening?(): string[];
}
