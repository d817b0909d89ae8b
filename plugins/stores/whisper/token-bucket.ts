/**
 * A token bucket like carbon's (capacity = rate, refilled continuously). `rate` 0 means unlimited.
 * `take()` waits for a token (update limit); `tryTake()` does not (create limit: the series waits
 * in the cache for a later pass instead of being dropped as carbon drops it).
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly perSecond: number,
    private readonly capacity = perSecond,
  ) {
    this.tokens = capacity;
  }

  get unlimited(): boolean {
    return this.perSecond <= 0;
  }

  tryTake(): boolean {
    if (this.unlimited) return true;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  async take(): Promise<void> {
    while (!this.tryTake()) {
      const waitMs = Math.max(1, ((1 - this.tokens) / this.perSecond) * 1000);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
