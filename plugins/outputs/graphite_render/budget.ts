/**
 * A per-request view of the query store that enforces the request's budgets while data is read, not
 * after: fetches go to the store in chunks of names, and between chunks the points read are charged
 * to the request's point budget (maxPointsPerRequest, and the server's maxPointsInFlight) and the
 * clock checked against the deadline. Without it, one `sumSeries(*.*.*)` over a long range would
 * allocate every series before any limit could refuse it (go-carbon#202: a query starving
 * ingestion).
 */
import { setMaxListeners } from 'node:events';
import { FetchTooLarge, turnTaker, type FetchOptions, type FindNode, type FindOptions, type QueryStore, type SeriesData, type TagQuery } from '../../../core/index.js';
import type { PointBudget } from './expr/index.js';
import { ApiError } from './respond.js';

/** names per store call: small enough to bound the overshoot, large enough to keep calls few */
const CHUNK = 32;
/**
 * store calls in flight at once: a store may read its names one after the other, and overlapping a
 * few calls keeps libuv's thread pool busy (about 3x faster for 1000 Whisper files on 2 cores)
 */
const PARALLEL = 4;
/**
 * a store that reads synchronously (SQLite) returns settled promises, and awaiting those never
 * lets I/O run: after this much work without a turn of the event loop, one is taken
 */
const TURN_MS = 20;

/**
 * `request`: aborted when the request is over (answered, or its client gone). The store's reads
 * are aborted then, and as soon as one passes the point budget or the deadline: the evaluator
 * fetches many path expressions at once, and the reads of a request that has already failed only
 * delayed the next requests (a one-series render waited 17 s behind them).
 */
export function budgetedStore(store: QueryStore, budget: PointBudget, deadline: number, request?: AbortSignal): QueryStore {
  const turn = turnTaker(TURN_MS);
  const reads = new AbortController();
  // every read in flight listens to it (a target prefetches up to 64 paths, 4 chunks each)
  setMaxListeners(0, reads.signal);
  /** what failed the request first: the other reads, stopped by it, report it too */
  let failure: unknown;
  const fail = (err: unknown): never => {
    failure ??= err;
    reads.abort();
    throw failure;
  };
  const over = () => fail(new ApiError(503, 'the request is over', 'abandoned'));
  if (request?.aborted) reads.abort();
  else request?.addEventListener('abort', () => reads.abort(), { once: true });
  const checkTime = () => {
    if (Date.now() > deadline) throw new ApiError(422, 'request time limit exceeded', 'limit_time');
  };
  return {
    get tags(): TagQuery | undefined {
      const tags = store.tags;
      if (!tags) return undefined;
      // each query may run a client's regex for up to a second (runWithTimeLimit) on this thread:
      // a target of forty seriesByTag() must still stop at the request's deadline
      return {
        tagNames: async () => (checkTime(), tags.tagNames()),
        tagValues: async (tag, opts) => (checkTime(), tags.tagValues(tag, opts)),
        findTagged: async (terms, opts) => (checkTime(), tags.findTagged(terms, opts)),
      };
    },
    get events() {
      return store.events;
    },
    async find(pattern: string, opts?: FindOptions): Promise<FindNode[]> {
      checkTime();
      return store.find(pattern, { ...opts, deadline });
    },
    async fetch(names: readonly string[], from: number, until: number, opts?: FetchOptions): Promise<SeriesData[]> {
      const chunks: string[][] = [];
      for (let i = 0; i < names.length; i += CHUNK) chunks.push(names.slice(i, i + CHUNK));
      const results: SeriesData[][] = new Array(chunks.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < chunks.length) {
          const k = next++;
          if (reads.signal.aborted) over();
          try {
            checkTime();
          } catch (err) {
            fail(err);
          }
          let part: SeriesData[] | undefined;
          let points = 0;
          try {
            // a store that honours maxPoints refuses before it allocates: one series of a 1-second
            // retention over a year is 250 MB, and a chunk of them was allocated before this
            // charge could refuse them (a 160 MB budget peaked at 2.6 GB over 30 days)
            part = await store.fetch(chunks[k]!, from, until, { ...opts, maxPoints: Math.max(0, budget.limit - budget.charged), signal: reads.signal });
            for (const s of part) points += s.values.length;
          } catch (err) {
            // stopped because the request failed or ended: that is the error, not the store's
            if (reads.signal.aborted) over();
            // a store's own failure fails this read only: it may be a prefetched path the target
            // never uses (fallbackSeries); past the budget or the deadline, every read is over
            if (!(err instanceof FetchTooLarge)) throw err;
            points = err.points;
          }
          if (reads.signal.aborted) over();
          try {
            // waits its turn while other requests hold the pool (the oldest always goes on)
            await budget.chargeWaiting(points, 'read from the store', deadline);
            // refused by the store yet within the budget (a store's miscount): never an answer with series missing
            if (!part) throw new ApiError(422, `the store refused to read more than ${points} datapoints`, 'limit_points');
          } catch (err) {
            // at once: with a store answering settled promises (SQLite), the other workers resume
            // before Promise.all's rejection reaches the caller
            fail(err);
          }
          results[k] = part!;
          await turn();
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, chunks.length) }, worker));
      return results.flat();
    },
  };
}
