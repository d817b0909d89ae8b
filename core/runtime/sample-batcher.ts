import type { SampleBatch, SampleType } from '../model/sample-batch.js';
import type { BatchLimits } from './batcher.js';

/** Like Batcher, for raw samples. Arrays are reused after each emit (listeners copy). */
export class SampleBatcher {
  private readonly batch: {
    length: number;
    names: string[];
    types: Uint8Array;
    values: Float64Array;
    rates: Float64Array;
    members: (string | undefined)[];
    receivedAt: number;
  };
  private readonly cap: number;
  private timer: NodeJS.Timeout | undefined;
  private emitting = false;

  constructor(
    private readonly emitBatch: (batch: SampleBatch) => void,
    private readonly limits: BatchLimits,
    private readonly now: () => number,
  ) {
    const cap = (this.cap = Math.max(1, limits.maxPoints));
    this.batch = {
      length: 0,
      names: new Array<string>(cap),
      types: new Uint8Array(cap),
      values: new Float64Array(cap),
      rates: new Float64Array(cap),
      members: new Array<string | undefined>(cap),
      receivedAt: 0,
    };
  }

  get pending(): number {
    return this.batch.length;
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
    if (b.length >= this.cap) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.limits.maxDelayMs);
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const b = this.batch;
    if (b.length === 0 || this.emitting) return;
    this.emitting = true;
    try {
      this.emitBatch(b);
    } finally {
      this.emitting = false;
      b.length = 0;
    }
  }

  close(): void {
    this.flush();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };
}
