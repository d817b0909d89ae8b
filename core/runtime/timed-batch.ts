import type { BatchLimits } from './batcher.js';

/**
 * What both batchers share: emit when the batch is full or `maxDelayMs` after its first entry,
 * whichever comes first; reuse the arrays after each emit (listeners copy what they keep).
 */
export abstract class TimedBatch<B extends { length: number }> {
  private timer: NodeJS.Timeout | undefined;
  private emitting = false;

  protected constructor(
    private readonly emitBatch: (batch: B) => void,
    private readonly limits: BatchLimits,
    protected readonly batch: B,
    protected readonly capacity: number,
  ) {}

  get pending(): number {
    return this.batch.length;
  }

  /** Subclasses call this after appending one entry. */
  protected added(): void {
    if (this.batch.length >= this.capacity) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.limits.maxDelayMs);
  }

  /** Emits whatever is pending now. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const b = this.batch as { length: number };
    if (b.length === 0 || this.emitting) return;
    this.emitting = true;
    try {
      this.emitBatch(this.batch);
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
