import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryStore, SeriesData } from '../../../core/index.js';
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
