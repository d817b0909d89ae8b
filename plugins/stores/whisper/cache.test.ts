import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayPool, WriteCache } from './cache.js';

test('pending entries found by series id follow take, putBack and discard', () => {
  const c = new WriteCache();
  const a = c.newEntry('a.b', 1);
  c.index(a, 7);
  a.push(10, 1);
  c.points++;
  assert.equal(c.pendingById(7), a);
  assert.equal(c.take('a.b'), a);
  assert.equal(c.pendingById(7), undefined, 'a taken entry is not pending: new points need a new entry');
  const b = c.newEntry('a.b', 2);
  c.index(b, 7);
  b.push(20, 2);
  c.points++;
  c.putBack('a.b');
  const merged = c.pendingById(7);
  assert.equal(merged, a, 'the put-back entry, holding both, is what the write path finds');
  assert.equal(c.pendingEntry('a.b'), a);
  assert.deepEqual([[...a.times.subarray(0, a.length)], [...a.values.subarray(0, a.length)]], [[10, 20], [1, 2]]);
  assert.equal(c.discard('a.b'), 2);
  assert.equal(c.pendingById(7), undefined);
  assert.equal(c.points, 0);
});

test('putBack merges more points than a call may take as arguments', () => {
  const c = new WriteCache();
  const a = c.newEntry('x', 1);
  a.push(1, 1);
  c.take('x');
  const b = c.newEntry('x', 1);
  for (let i = 0; i < 300_000; i++) {
    b.push(i + 2, i);
  }
  c.putBack('x');
  assert.equal(c.pendingEntry('x')!.length, 300_001);
});

test('the pool hands out separate arrays and reuses what it is given', () => {
  const pool = new ArrayPool(1 << 12);
  const arrays = Array.from({ length: 300 }, () => pool.take(64));
  arrays.forEach((a, i) => a.fill(i));
  // carved from shared slabs, yet no two overlap
  arrays.forEach((a, i) => assert.ok(a.length === 64 && a.every((x) => x === i), `array ${i}`));
  const given = arrays[7]!;
  pool.give(given);
  assert.equal(pool.elements, 64);
  assert.equal(pool.take(64), given, 'a given array of the size asked for comes back');
  assert.equal(pool.elements, 0);
  assert.notEqual(pool.take(128), given, 'another size never does');
  pool.give(given);
  pool.clear();
  assert.equal(pool.elements, 0);
  assert.notEqual(pool.take(64), given, 'a cleared pool keeps nothing');
});

test('a full pool makes room by dropping the sizes it holds most of', () => {
  const pool = new ArrayPool(1024);
  for (let i = 0; i < 64; i++) pool.give(new Float64Array(16));
  assert.equal(pool.elements, 1024);
  const big = new Float64Array(512);
  pool.give(big);
  assert.equal(pool.elements, 1024, 'still within the bound');
  assert.equal(pool.take(512), big);
  pool.give(new Float64Array(2048));
  assert.equal(pool.elements, 512, 'larger than the whole pool: not kept');
});

test('a series entry grows without losing points, and its next entry is sized like the last one', () => {
  const c = new WriteCache();
  const a = c.newEntry('s', 0, 3);
  for (let i = 0; i < 100; i++) a.push(1000 + i, i);
  c.points += 100;
  assert.deepEqual([...a.values.subarray(0, a.length)], Array.from({ length: 100 }, (_, i) => i));
  assert.equal(c.take('s'), a);
  c.done('s');
  assert.equal(c.points, 0);
  const b = c.newEntry('s', 0, 3);
  assert.equal(b.times.length, 128, 'room for the 100 points the series had last time');
  assert.equal(b.length, 0);
  assert.equal(c.pendingById(3), b);
});

test('a size hint never allocates: after a backfill, one point per series stays small', () => {
  const c = new WriteCache(1 << 14);
  for (let id = 0; id < 50; id++) {
    const e = c.newEntry(`s${id}`, 0, id);
    for (let i = 0; i < 1000; i++) e.push(i + 1, i);
    c.points += 1000;
    c.take(`s${id}`);
    c.done(`s${id}`);
  }
  // every series now hints 1000 points; the pool holds only what its bound allows
  const served = Array.from({ length: 5 }, (_, id) => c.newEntry(`s${id}`, 0, id).times.length);
  assert.ok(served.includes(1024), `the pool serves a hint while it holds such arrays: ${served}`);
  c.pool.clear();
  const sizes = Array.from({ length: 45 }, (_, k) => c.newEntry(`s${k + 5}`, 0, k + 5).times.length);
  assert.deepEqual(new Set(sizes), new Set([8]), 'with nothing pooled, hinted entries start small');
});

test('an entry used after release grows again instead of dropping points', () => {
  const c = new WriteCache();
  const e = c.newEntry('x', 0);
  e.push(1, 1);
  e.release();
  e.push(2, 2);
  assert.deepEqual([e.length, e.times[0], e.values[0]], [1, 2, 2]);
});

test("snapshot: most points first (carbon's sorted), equal counts in arrival order, none being written", () => {
  const c = new WriteCache();
  const counts: Array<[string, number]> = [['a', 1], ['b', 3], ['c', 2], ['d', 3], ['e', 1], ['f', 2]];
  for (const [name, n] of counts) for (let i = 0; i < n; i++) c.add(name, 10 * (i + 1), i, 1);
  assert.deepEqual(c.snapshot(), ['b', 'd', 'c', 'f', 'a', 'e']);
  c.take('d');
  assert.deepEqual(c.snapshot(), ['b', 'c', 'f', 'a', 'e'], 'a series being written is not in the next pass');
  c.add('d', 100, 1, 1); // new points while it is written: pending again, but still in flight
  assert.deepEqual(c.snapshot(), ['b', 'c', 'f', 'a', 'e']);
  c.done('d');
  assert.deepEqual(c.snapshot(), ['b', 'c', 'f', 'a', 'e', 'd']);
  const one = new WriteCache();
  assert.deepEqual(one.snapshot(), []);
  one.add('x', 10, 1, 1);
  one.add('y', 10, 1, 1);
  assert.deepEqual(one.snapshot(), ['x', 'y']);
});
