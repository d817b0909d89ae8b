import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointsForJson, consolidateValues } from './consolidate.js';

const series = (start: number, step: number, values: number[], consolidationFunc = 'average', xFilesFactor = 0) => ({
  start, end: start + step * values.length, step, values: Float64Array.from(values), consolidationFunc, xFilesFactor,
});
const pairs = (p: { values: Float64Array; times: Float64Array }) => Array.from(p.values, (v, i) => [Number.isNaN(v) ? null : v, p.times[i]]);

test('documented example: vpp 4, nudge 240, three values dropped', () => {
  const s = series(1699999440, 60, [1, 2, 3, 4, 5, 6, 7, 8, 9, 3]);
  // values 10..; protocols.md: mean of the slots 1699999620..1699999800
  const t = series(1699999440, 60, [0, 0, 0, 12, 13, 14, 15, 0, 0, 3]);
  assert.deepEqual(pairs(pointsForJson([t], 3)[0]!), [[13.5, 1699999680], [1, 1699999920]]);
  assert.equal(pointsForJson([s], 3)[0]!.values.length, 2);
});

test('no consolidation when maxDataPoints is not exceeded', () => {
  const s = series(1000, 10, [1, NaN, 3]);
  assert.deepEqual(pairs(pointsForJson([s], 3)[0]!), [[1, 1000], [null, 1010], [3, 1020]]);
  assert.deepEqual(pairs(pointsForJson([s], undefined)[0]!), [[1, 1000], [null, 1010], [3, 1020]]);
});

test('maxDataPoints=1 folds everything', () => {
  const s = series(1000, 10, [1, NaN, 3]);
  assert.deepEqual(pairs(pointsForJson([s], 1)[0]!), [[2, 1000]]);
});

test('consolidation functions and xFilesFactor', () => {
  const v = Float64Array.from([1, NaN, 3, 4, NaN]);
  assert.deepEqual([...consolidateValues(v, 2, 'sum', 0)], [1, 7, NaN]);
  assert.deepEqual([...consolidateValues(v, 2, 'avg_zero', 0)], [0.5, 3.5, NaN]);
  assert.deepEqual([...consolidateValues(v, 2, 'max', 0)], [1, 4, NaN]);
  assert.deepEqual([...consolidateValues(v, 2, 'first', 0)], [1, 3, NaN]);
  assert.deepEqual([...consolidateValues(v, 2, 'last', 0)], [1, 4, NaN]);
  assert.deepEqual([...consolidateValues(v, 2, 'average', 0.6)], [NaN, 3.5, NaN]);
  assert.deepEqual([...consolidateValues(Float64Array.from([1, 2, 5]), 2, 'min', 1)], [1, NaN]);
  assert.throws(() => consolidateValues(v, 2, 'bogus', 0));
});
