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
/** the cells of a request's budget, shared by the threads that charge it */
const USED = 0;
const TAKEN = 1;
const RELEASED = 2;

export class PointBudget {
  /**
   * the request's counts in shared memory: the main thread charges its reads, the render worker
   * what functions copy and generate, against one limit and one share of the pool; whatever
   * either took goes back at release, even if the worker was ended mid-render
   */
  readonly cells: SharedArrayBuffer;
  private readonly c: BigInt64Array;

  constructor(
    readonly limit: number,
    private readonly pool?: PointPool,
    cells?: SharedArrayBuffer,
  ) {
    this.cells = cells ?? new SharedArrayBuffer(3 * 8);
    this.c = new BigInt64Array(this.cells);
  }

  get charged(): number {
    return Number(Atomics.load(this.c, USED));
  }

  /** counts `points` against the budget; past it, a 422 naming what asked for them; past the pool, a 503 */
  charge(points: number, what: string): void {
    const over = (): ExprEvalError =>
      new ExprEvalError(`the request reads, copies or generates more than ${this.limit} datapoints (${what}): narrow the time range or the targets, or use a larger interval`, 422);
    if (!(points <= this.limit)) throw over();
    const whole = BigInt(Math.ceil(Math.max(0, points)));
    if (!(Number(Atomics.add(this.c, USED, whole) + whole) <= this.limit)) throw over();
    if (!this.pool) return;
    // the client went away (or the answer is out) and the points were given back: stop working
    const abandoned = (): ExprEvalError => new ExprEvalError('the request was abandoned', 503);
    if (Atomics.load(this.c, RELEASED)) throw abandoned();
    if (!this.pool.take(Number(whole), Number(Atomics.load(this.c, TAKEN)))) {
      throw new ExprEvalError(`the server is busy: other requests hold ${this.pool.inFlight} datapoints (maxPointsInFlight ${this.pool.limit}); try again shortly`, 503);
    }
    Atomics.add(this.c, TAKEN, whole);
    if (Atomics.load(this.c, RELEASED)) {
      // released on the other thread meanwhile: each point is given back once, by whoever empties the cell
      this.pool.give(Number(Atomics.exchange(this.c, TAKEN, 0n)));
      throw abandoned();
    }
  }

  /** gives what this request took back to the pool (once its answer is sent or abandoned) */
  release(): void {
    Atomics.store(this.c, RELEASED, 1n);
    this.pool?.give(Number(Atomics.exchange(this.c, TAKEN, 0n)));
  }
}
