import type { SampleBatch, SampleType } from '../model/sample-batch.js';
import type { BatchLimits } from './batcher.js';
import { TimedBatch } from './timed-batch.js';

interface MutableSampleBatch {
  length: number;
  names: string[];
  types: Uint8Array;
  values: Float64Array;
  rates: Float64Array;
  members: (string | undefined)[];
  receivedAt: number;
}

/** Like Batcher, for raw samples. Arrays are reused after each emit (listeners copy). */
export class SampleBatcher extends TimedBatch<MutableSampleBatch> {
  constructor(
    emitBatch: (batch: SampleBatch) => void,
    limits: BatchLimits,
    private readonly now: () => number,
  ) {
    const cap = Math.max(1, limits.maxPoints);
    super(
      emitBatch,
      limits,
      {
        length: 0,
        names: new Array<string>(cap),
        types: new Uint8Array(cap),
        values: new Float64Array(cap),
        rates: new Float64Array(cap),
        members: new Array<string | undefined>(cap),
        receivedAt: 0,
      },
      cap,
    );
  }

  add(name: string, type: SampleType, value: number, rate: number, member?: string): void {
    const b = this.batch;
    const i = b.length;
    if (i === 0) b.receivedAt = this.now();
    b.names[i] = name;
    b.types[i] = type;
    b.values[i] = value;
    b.rates[i] = rate;
    b.members[i] = member;
    b.length = i + 1;
    this.added();
  }
}
