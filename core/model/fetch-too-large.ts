/**
 * A fetch whose answer would pass the caller's `maxPoints` (FetchOptions). A store throws it
 * before allocating the series that would pass it: `points` is how many values the answer would
 * have held by then, at least. Query outputs answer it as their point limit (graphite-render: 422).
 */
export class FetchTooLarge extends Error {
  constructor(readonly points: number) {
    super(`the fetch would answer more than ${points - 1} values`);
    this.name = 'FetchTooLarge';
  }
}
