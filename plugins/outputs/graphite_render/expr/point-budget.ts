import { ExprEvalError } from './errors.js';

/**
 * The datapoints one render request may hold: the points it reads from the store, the copies a
 * second use of the same data needs, and the series functions generate from an interval
 * (`hitcount(x, "1s")` over a month makes 2.6 M points of every input series). Each is charged
 * before it is allocated, so a request over the budget is refused before it takes the memory,
 * not after (graphite-web has no such limit). One budget is shared by all targets of a request.
 */
export class PointBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get charged(): number {
    return this.used;
  }

  /** counts `points` against the budget; past it, a 422 naming what asked for them */
  charge(points: number, what: string): void {
    this.used += points;
    if (!(this.used <= this.limit)) {
      throw new ExprEvalError(`the request reads, copies or generates more than ${this.limit} datapoints (${what}): narrow the time range or the targets, or use a larger interval`, 422);
    }
  }
}
