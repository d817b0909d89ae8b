/**
 * A token bucket like carbon's (capacity = rate, refilled continuously). `rate` 0 means unlimited.
 * `take()` waits for a token (update limit); `tryTake()` does not (create limit: the series waits
 * in the cache for a later pass instead of being dropped as carbon drops it).
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly capacity: number;

  /** `capacity` is at least one token: carbon allows rates under 1/s (0.5 is an update every 2 s) */
  constructor(
    private readonly perSecond: number,
    capacity = perSecond,
  ) {
    this.capacity = Math.max(1, capacity);
    this.tokens = this.capacity;
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

  /**
   * Waits for a token; false when `abandon()` became true meanwhile (a stop, which writes without
   * the limit). Waits in slices of at most 100 ms: at carbon-like rates such as 0.01/s the next
   * token is minutes away.
   */
  async take(abandon: () => boolean = () => false): Promise<boolean> {
    while (!this.tryTake()) {
      if (abandon()) return false;
      const waitMs = Math.min(100, Math.max(1, ((1 - this.tokens) / this.perSecond) * 1000));
      await new Promise((r) => setTimeout(r, waitMs));
    }
    return true;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
