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
