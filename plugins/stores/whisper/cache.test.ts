import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteCache } from './cache.js';

test('pending entries found by series id follow take, putBack and discard', () => {
  const c = new WriteCache();
  const a = c.newEntry('a.b', 1);
  c.index(a, 7);
  a.times.push(10);
  a.values.push(1);
  c.points++;
  assert.equal(c.pendingById(7), a);
  assert.equal(c.take('a.b'), a);
  assert.equal(c.pendingById(7), undefined, 'a taken entry is not pending: new points need a new entry');
  const b = c.newEntry('a.b', 2);
  c.index(b, 7);
  b.times.push(20);
  b.values.push(2);
  c.points++;
  c.putBack('a.b');
  const merged = c.pendingById(7);
  assert.equal(merged, a, 'the put-back entry, holding both, is what the write path finds');
  assert.equal(c.pendingEntry('a.b'), a);
  assert.deepEqual([a.times, a.values], [[10, 20], [1, 2]]);
  assert.equal(c.discard('a.b'), 2);
  assert.equal(c.pendingById(7), undefined);
  assert.equal(c.points, 0);
});

test('putBack merges more points than a call may take as arguments', () => {
  const c = new WriteCache();
  const a = c.newEntry('x', 1);
  a.times.push(1);
  a.values.push(1);
  c.take('x');
  const b = c.newEntry('x', 1);
  for (let i = 0; i < 300_000; i++) {
    b.times.push(i + 2);
    b.values.push(i);
  }
  c.putBack('x');
  assert.equal(c.pendingEntry('x')!.length, 300_001);
});
