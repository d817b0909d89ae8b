import type { PointBatch } from '../model/point-batch.js';

export interface BatchLimits {
  /** emit as soon as this many points are pending */
  readonly maxPoints: number;
  /** emit pending points at most this long after the first one was added */
  readonly maxDelayMs: number;
}

/**
 * Collects points from one producer and hands them on as columnar batches.
 * The arrays are reused after each emit: listeners copy what they keep (the bus contract), so
 * a steady stream allocates nothing per point.
 */
export class Batcher {
  private readonly names: string[];
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private readonly batch: { length: number; names: string[]; values: Float64Array; times: Float64Array };
  private timer: NodeJS.Timeout | undefined;
  private emitting = false;

  constructor(
    private readonly emitBatch: (batch: PointBatch) => void,
    private readonly limits: BatchLimits,
  ) {
    const cap = Math.max(1, limits.maxPoints);
    this.names = new Array<string>(cap);
    this.values = new Float64Array(cap);
    this.times = new Float64Array(cap);
    this.batch = { length: 0, names: this.names, values: this.values, times: this.times };
  }

  get pending(): number {
    return this.batch.length;
  }

  add(name: string, value: number, time: number): void {
    const b = this.batch;
    const i = b.length;
    this.names[i] = name;
    this.values[i] = value;
    this.times[i] = time;
    b.length = i + 1;
    if (b.length >= this.names.length) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.limits.maxDelayMs);
  }

  /** Emits whatever is pending now. */
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

  /** Flushes and releases the timer; the batcher stays usable. */
  close(): void {
    this.flush();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };
}
