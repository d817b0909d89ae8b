import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchTooLarge, type FetchOptions, type QueryStore, type SeriesData } from '../../../core/index.js';
import { budgetedStore } from './budget.js';
import { PointBudget } from './expr/index.js';

/** a store that answers synchronously, as SQLite does: settled promises, no I/O in between */
function busyStore(msPerCall: number, log: string[]): QueryStore {
  return {
    async find() {
      return [];
    },
    async fetch(names): Promise<SeriesData[]> {
      const until = performance.now() + msPerCall;
      while (performance.now() < until);
      log.push('fetch');
      return names.map((name) => ({ name, start: 0, end: 10, step: 10, values: new Float64Array(1), consolidation: 'average', xFilesFactor: 0 }));
    },
  } as QueryStore;
}

test('budgeted fetch from a synchronous store gives the event loop a turn every ~20 ms', async () => {
  const log: string[] = [];
  setImmediate(() => log.push('turn'));
  const names = Array.from({ length: 32 * 12 }, (_, i) => `s${i}`);
  const got = await budgetedStore(busyStore(5, log), new PointBudget(1e9), Date.now() + 60_000).fetch(names, 0, 10);
  assert.equal(got.length, names.length);
  const turn = log.indexOf('turn');
  assert.ok(turn > 0 && turn < 8, `I/O had its turn after ${turn} of 12 store calls (${log.join(' ')})`);
});

test('budgeted fetch refuses past the point budget and the deadline', async () => {
  const names = Array.from({ length: 100 }, (_, i) => `s${i}`);
  await assert.rejects(budgetedStore(busyStore(0, []), new PointBudget(50), Date.now() + 60_000).fetch(names, 0, 10), /more than 50 datapoints/);
  await assert.rejects(budgetedStore(busyStore(0, []), new PointBudget(1e9), Date.now() - 1).fetch(names, 0, 10), /time limit/);
});

test('budgeted tag queries stop at the deadline', async () => {
  const calls: string[] = [];
  const store = {
    ...busyStore(0, []),
    tags: {
      tagNames: async () => (calls.push('tagNames'), []),
      tagValues: async () => (calls.push('tagValues'), []),
      findTagged: async () => (calls.push('findTagged'), ['a;b=c']),
    },
  } as QueryStore;
  assert.deepEqual(await budgetedStore(store, new PointBudget(1e9), Date.now() + 60_000).tags!.findTagged([{ tag: 'b', op: '=', value: 'c' }]), ['a;b=c']);
  const late = budgetedStore(store, new PointBudget(1e9), Date.now() - 1).tags!;
  await assert.rejects(late.findTagged([{ tag: 'b', op: '=', value: 'c' }]), /time limit/);
  await assert.rejects(late.tagValues('b'), /time limit/);
  await assert.rejects(late.tagNames(), /time limit/);
  assert.deepEqual(calls, ['findTagged']);
});

test('budgeted fetch tells the store how many points are left; a store refusing past them (FetchTooLarge) is the 422, charged', async () => {
  const asked: Array<number | undefined> = [];
  const store = {
    async find() {
      return [];
    },
    async fetch(names: readonly string[], _from: number, _until: number, opts?: FetchOptions): Promise<SeriesData[]> {
      asked.push(opts?.maxPoints);
      // grids of 1,000 values each, refused before they are made once they would pass the limit
      if (names.length * 1000 > (opts?.maxPoints ?? Infinity)) throw new FetchTooLarge(names.length * 1000);
      return names.map((name) => ({ name, start: 0, end: 10_000, step: 10, values: new Float64Array(1000), consolidation: 'average', xFilesFactor: 0 }));
    },
  } as QueryStore;
  const budget = new PointBudget(50_000);
  const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
  assert.equal((await budgetedStore(store, budget, Date.now() + 60_000).fetch(names(10), 0, 10_000)).length, 10);
  assert.deepEqual(asked, [50_000]);
  assert.equal(budget.charged, 10_000);
  await assert.rejects(budgetedStore(store, budget, Date.now() + 60_000).fetch(names(41), 0, 10_000), /more than 50000 datapoints \(read from the store\)/);
  assert.deepEqual(asked.slice(1, 2), [40_000], 'what the first fetch left');
  // a store that refuses within the budget (a miscount) is never taken as "no series"
  const miscount = { ...store, fetch: async () => Promise.reject(new FetchTooLarge(5)) } as QueryStore;
  await assert.rejects(budgetedStore(miscount, new PointBudget(1000), Date.now() + 60_000).fetch(['a'], 0, 10), /refused to read more than 5 datapoints/);
});

test('past the budget, the reads still in flight are told to stop, and every fetch of the request reports the refusal', async () => {
  const stopped: string[] = [];
  const store = {
    async find() {
      return [];
    },
    async fetch(names: readonly string[], _from: number, _until: number, opts?: FetchOptions): Promise<SeriesData[]> {
      if (names[0] === 'big') return [{ name: 'big', start: 0, end: 10_000, step: 10, values: new Float64Array(1000), consolidation: 'average', xFilesFactor: 0 }];
      // a slow read: answers after 5 s unless the caller gives up
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        opts?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          stopped.push(names[0]!);
          resolve();
        });
      });
      opts?.signal?.throwIfAborted();
      return [];
    },
  } as QueryStore;
  const request = new AbortController();
  const budgeted = budgetedStore(store, new PointBudget(500), Date.now() + 60_000, request.signal);
  const t0 = performance.now();
  const results = await Promise.allSettled([budgeted.fetch(['slow1'], 0, 10), budgeted.fetch(['big'], 0, 10), budgeted.fetch(['slow2'], 0, 10)]);
  assert.ok(performance.now() - t0 < 2000, 'the slow reads were stopped');
  assert.deepEqual(stopped.sort(), ['slow1', 'slow2']);
  for (const r of results) assert.match(String((r as PromiseRejectedResult).reason?.message), /more than 500 datapoints/, 'the refusal, not "the request is over"');
  // a request whose client went away stops its reads too
  const other = budgetedStore(store, new PointBudget(1e9), Date.now() + 60_000, request.signal);
  request.abort();
  await assert.rejects(other.fetch(['slow3'], 0, 10), /the request is over/);
});
