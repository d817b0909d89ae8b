import { ExprEvalError } from './errors.js';

/**
 * The datapoints held by all render requests in progress (`maxPointsInFlight`): each request's
 * budget takes its points from it as it charges them and gives them back when its answer is sent.
 * Twenty concurrent renders of 8.8 M points each took 3.5 GB; past the pool a read waits its
 * turn (chargeWaiting; a computation in the render worker is refused, 503) instead of growing the
 * process towards the OOM killer, which would take the stores' write-back caches with it.
 */
export class PointPool {
  /**
   * the points held, in shared memory: renders evaluated in the render worker take from the same
   * pool as the main thread's reads (a compare-and-swap keeps check and take one step)
   */
  readonly buffer: SharedArrayBuffer;
  /** HELD: the points held; NEXT: the last ticket given; OLDEST: the oldest request's ticket (0: none) */
  private readonly cells: BigInt64Array;
  /** the tickets of the requests in progress, oldest first (kept by the thread that admits: the main one) */
  private readonly active = new Set<number>();

  constructor(
    readonly limit: number,
    buffer?: SharedArrayBuffer,
  ) {
    this.buffer = buffer ?? new SharedArrayBuffer(3 * 8);
    this.cells = new BigInt64Array(this.buffer);
  }

  get inFlight(): number {
    return Number(Atomics.load(this.cells, HELD));
  }

  /** a ticket for a new request: the oldest in progress may always take (see take) */
  admit(): number {
    const ticket = Number(Atomics.add(this.cells, NEXT, 1n) + 1n);
    this.active.add(ticket);
    this.publishOldest();
    return ticket;
  }

  /** the request of `ticket` is over */
  leave(ticket: number): void {
    if (this.active.delete(ticket)) this.publishOldest();
  }

  private publishOldest(): void {
    // tickets only grow, and a Set keeps insertion order: the first is the oldest
    const first = this.active.values().next();
    Atomics.store(this.cells, OLDEST, first.done ? 0n : BigInt(first.value));
  }

  /**
   * false when the points do not fit beside other requests'. A request alone always fits, and so
   * does the oldest in progress: when every request held a share and needed more, each was
   * refused, and twenty panels loaded at once all answered 503 (a probe; 8 at once fitted).
   */
  take(points: number, ownHeld: number, ticket = 0): boolean {
    const n = BigInt(Math.ceil(points));
    const oldest = ticket !== 0 && BigInt(ticket) === Atomics.load(this.cells, OLDEST);
    for (;;) {
      const held = Atomics.load(this.cells, HELD);
      if (!oldest && Number(held) > ownHeld && Number(held) + points > this.limit) return false;
      if (Atomics.compareExchange(this.cells, HELD, held, held + n) === held) return true;
    }
  }

  give(points: number): void {
    Atomics.sub(this.cells, HELD, BigInt(Math.ceil(points)));
  }
}

/** the pool's cells */
const HELD = 0;
const NEXT = 1;
const OLDEST = 2;

/** the cells of a request's budget, shared by the threads that charge it */
const USED = 0;
const TAKEN = 1;
const RELEASED = 2;
/** the request's ticket from the pool (0: none) */
const TICKET = 3;
/** how often a read waiting for the pool looks again */
const POOL_WAIT_MS = 20;

/**
 * The datapoints one render request may hold: the points it reads from the store, the copies a
 * second use of the same data needs, and the series functions generate from an interval
 * (`hitcount(x, "1s")` over a month makes 2.6 M points of every input series). Each is charged
 * before it is allocated, so a request over the budget is refused before it takes the memory,
 * not after (graphite-web has no such limit). One budget is shared by all targets of a request.
 */
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
    this.cells = cells ?? new SharedArrayBuffer(4 * 8);
    this.c = new BigInt64Array(this.cells);
    // made here (the main thread) for a request; the render worker's copy reads the same cells
    if (!cells && pool) Atomics.store(this.c, TICKET, BigInt(pool.admit()));
  }

  get charged(): number {
    return Number(Atomics.load(this.c, USED));
  }

  /** counts `points` against the budget; past it, a 422 naming what asked for them; past the pool, a 503 */
  charge(points: number, what: string): void {
    const whole = this.count(points, what);
    if (whole !== undefined && !this.takeFromPool(whole)) throw this.busy();
  }

  /**
   * charge(), except that points the pool cannot take now are waited for, until `deadline`: the
   * oldest request in progress always takes, so the requests waiting go on in turn as it is
   * answered. For reads, which the main thread charges between awaits; a function computing in
   * the render worker cannot wait and uses charge().
   */
  async chargeWaiting(points: number, what: string, deadline: number): Promise<void> {
    const whole = this.count(points, what);
    if (whole === undefined) return;
    while (!this.takeFromPool(whole)) {
      if (Date.now() >= deadline) throw this.busy();
      await new Promise((resolve) => setTimeout(resolve, POOL_WAIT_MS));
    }
  }

  /** the points against the request's own limit; what the pool has to take (undefined: no pool) */
  private count(points: number, what: string): bigint | undefined {
    const over = (): ExprEvalError =>
      new ExprEvalError(`the request reads, copies or generates more than ${this.limit} datapoints (${what}): narrow the time range or the targets, or use a larger interval`, 422);
    if (!(points <= this.limit)) throw over();
    const whole = BigInt(Math.ceil(Math.max(0, points)));
    if (!(Number(Atomics.add(this.c, USED, whole) + whole) <= this.limit)) throw over();
    return this.pool ? whole : undefined;
  }

  /** false when the pool cannot take them now; throws once the request is over */
  private takeFromPool(whole: bigint): boolean {
    const pool = this.pool!;
    // the client went away (or the answer is out) and the points were given back: stop working
    const abandoned = (): ExprEvalError => new ExprEvalError('the request was abandoned', 503);
    if (Atomics.load(this.c, RELEASED)) throw abandoned();
    if (!pool.take(Number(whole), Number(Atomics.load(this.c, TAKEN)), Number(Atomics.load(this.c, TICKET)))) return false;
    Atomics.add(this.c, TAKEN, whole);
    if (Atomics.load(this.c, RELEASED)) {
      // released on the other thread meanwhile: each point is given back once, by whoever empties the cell
      pool.give(Number(Atomics.exchange(this.c, TAKEN, 0n)));
      throw abandoned();
    }
    return true;
  }

  private busy(): ExprEvalError {
    const pool = this.pool!;
    return new ExprEvalError(`the server is busy: other requests hold ${pool.inFlight} datapoints (maxPointsInFlight ${pool.limit}); try again shortly`, 503);
  }

  /** gives what this request took back to the pool (once its answer is sent or abandoned) */
  release(): void {
    Atomics.store(this.c, RELEASED, 1n);
    this.pool?.give(Number(Atomics.exchange(this.c, TAKEN, 0n)));
    this.pool?.leave(Number(Atomics.load(this.c, TICKET)));
  }
}
