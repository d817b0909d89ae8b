import type { PointBatch } from '../model/point-batch.js';
import { TimedBatch } from './timed-batch.js';

export interface BatchLimits {
  /** emit as soon as this many points are pending */
  readonly maxPoints: number;
  /** emit pending points at most this long after the first one was added */
  readonly maxDelayMs: number;
}

interface MutablePointBatch {
  length: number;
  names: string[];
  values: Float64Array;
  times: Float64Array;
  ids: Int32Array;
}

/**
 * Collects points from one producer and hands them on as columnar batches.
 * The arrays are reused after each emit: listeners copy what they keep (the bus contract), so
 * a steady stream allocates nothing per point.
 */
export class Batcher extends TimedBatch<MutablePointBatch> {
  constructor(emitBatch: (batch: PointBatch) => void, limits: BatchLimits) {
    const cap = Math.max(1, limits.maxPoints);
    super(emitBatch, limits, { length: 0, names: new Array<string>(cap), values: new Float64Array(cap), times: new Float64Array(cap), ids: new Int32Array(cap) }, cap);
  }

  /** `id`: the name's SeriesIds id when the producer has it (see PointBatch.ids), else -1 */
  add(name: string, value: number, time: number, id = -1): void {
    const b = this.batch;
    const i = b.length;
    b.names[i] = name;
    b.values[i] = value;
    b.times[i] = time;
    b.ids[i] = id;
    b.length = i + 1;
    this.added();
  }
}
