import { ExprEvalError } from './errors.js';

/**
 * The datapoints held by all render requests in progress (`maxPointsInFlight`): each request's
 * budget takes its points from it as it charges them and gives them back when its answer is sent.
 * Twenty concurrent renders of 8.8 M points each took 3.5 GB; past the pool a request is refused
 * (503, try again) instead of growing the process towards the OOM killer, which would take the
 * stores' write-back caches with it.
 */
export class PointPool {
  /**
   * the points held, in shared memory: renders evaluated in the render worker take from the same
   * pool as the main thread's reads (a compare-and-swap keeps check and take one step)
   */
  readonly buffer: SharedArrayBuffer;
  private readonly held: BigInt64Array;

  constructor(
    readonly limit: number,
    buffer?: SharedArrayBuffer,
  ) {
    this.buffer = buffer ?? new SharedArrayBuffer(8);
    this.held = new BigInt64Array(this.buffer);
  }

  get inFlight(): number {
    return Number(Atomics.load(this.held, 0));
  }

  /** false when the points do not fit beside other requests' (a request alone always fits) */
  take(points: number, ownHeld: number): boolean {
    const n = BigInt(Math.ceil(points));
    for (;;) {
      const held = Atomics.load(this.held, 0);
      if (Number(held) > ownHeld && Number(held) + points > this.limit) return false;
      if (Atomics.compareExchange(this.held, 0, held, held + n) === held) return true;
    }
  }

  give(points: number): void {
    Atomics.sub(this.held, 0, BigInt(Math.ceil(points)));
  }
}

/**
 * The datapoints one render request may hold: the points it reads from the store, the copies a
 * second use of the same data needs, and the series functions generate from an interval
 * (`hitcount(x, "1s")` over a month makes 2.6 M points of every input series). Each is charged
 * before it is allocated, so a request over the budget is refused before it takes the memory,
 * not after (graphite-web has no such limit). One budget is shared by all targets of a request.
 */
export class PointBudget {
  private used = 0;
  private taken = 0;
  private released = false;
  /** points of this request held in the pool through its other budget (the main thread's reads) */
  private elsewhere = 0;

  constructor(
    readonly limit: number,
    private readonly pool?: PointPool,
  ) {}

  get charged(): number {
    return this.used;
  }

  /** counts `points` against the budget; past it, a 422 naming what asked for them; past the pool, a 503 */
  charge(points: number, what: string): void {
    this.used += points;
    if (!(this.used <= this.limit)) {
      throw new ExprEvalError(`the request reads, copies or generates more than ${this.limit} datapoints (${what}): narrow the time range or the targets, or use a larger interval`, 422);
    }
    if (this.pool) {
      // the client went away (or the answer is out) and the points were given back: stop working
      if (this.released) throw new ExprEvalError('the request was abandoned', 503);
      const whole = Math.ceil(points);
      if (!this.pool.take(whole, this.taken + this.elsewhere)) {
        throw new ExprEvalError(`the server is busy: other requests hold ${this.pool.inFlight} datapoints (maxPointsInFlight ${this.pool.limit}); try again shortly`, 503);
      }
      this.taken += whole;
    }
  }

  /**
   * counts points charged by the request's other budget (the render worker counts the reads the
   * main thread charged), so the limit covers reads and generated points together, and the pool
   * sees the request as alone when it is
   */
  count(points: number): void {
    this.used += points;
    this.elsewhere += points;
  }

  /** points taken from the pool by another budget of this request (the render worker's), released with this one's */
  adopt(points: number): void {
    if (this.released) this.pool?.give(points);
    else this.taken += points;
  }

  /** the points this budget holds in the pool */
  get held(): number {
    return this.taken;
  }

  /** gives what this request took back to the pool (once its answer is sent or abandoned) */
  release(): void {
    this.pool?.give(this.taken);
    this.taken = 0;
    this.released = true;
  }
}
