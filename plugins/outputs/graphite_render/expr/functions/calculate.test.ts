import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getAggFunc, xffOk } from '../safe.js';
import { slidingWindow } from './calculate.js';

/** the definition: recompute every window */
function naive(values: Float64Array, points: number, func: string, xff: number): Float64Array {
  const agg = getAggFunc(func)!;
  const out = new Float64Array(Math.max(0, values.length - points));
  for (let i = points; i < values.length; i++) {
    const w = Array.from(values.subarray(i - points, i)).filter((v) => !Number.isNaN(v));
    out[i - points] = w.length && xffOk(w.length, points, xff) ? agg(w) : NaN;
  }
  return out;
}

test('sliding sums, averages, minima and maxima equal the per-window definition', () => {
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (const func of ['average', 'sum', 'min', 'max', 'median', 'avg_zero']) {
    for (const points of [1, 2, 3, 7, 50]) {
      for (const nullShare of [0, 0.3, 0.9]) {
        const values = Float64Array.from({ length: 400 }, () => (rand() < nullShare ? NaN : Math.round(rand() * 1e6) / 100 - 2000));
        for (const xff of [0, 0.5]) {
          const got = slidingWindow(values, points, func, getAggFunc(func)!, xff);
          const want = naive(values, points, func, xff);
          assert.equal(got.length, want.length);
          got.forEach((v, i) => {
            const w = want[i]!;
            assert.ok(Number.isNaN(v) ? Number.isNaN(w) : Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${func} window ${points} xff ${xff} [${i}]: ${v} vs ${w}`);
          });
        }
      }
    }
  }
});

test('a window longer than the series gives no points', () => {
  assert.equal(slidingWindow(new Float64Array([1, 2]), 5, 'sum', getAggFunc('sum')!, 0).length, 0);
});

test('moving sums and averages are graphite-web\'s per-window sums to the last bit', () => {
  // python3: [sum(v[i-3:i]) for i in range(3, 7)] == [0.6000000000000001, 0.9, 1.2, 1.5]; a
  // running sum (add the new point, drop the old) gives 1.4999999999999998 for the last
  const v = new Float64Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  assert.deepEqual(Array.from(slidingWindow(v, 3, 'sum', getAggFunc('sum')!, 0)), [0.6000000000000001, 0.9, 1.2, 1.5]);
  assert.deepEqual(Array.from(slidingWindow(v, 3, 'average', getAggFunc('average')!, 0)), [0.6000000000000001 / 3, 0.3, 0.39999999999999997, 0.5]);
  let seed = 11;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const values = Float64Array.from({ length: 2000 }, () => (rand() < 0.2 ? NaN : (rand() - 0.5) * 10 ** Math.floor(rand() * 12)));
  for (const func of ['sum', 'average']) {
    for (const points of [2, 10, 300]) {
      const got = slidingWindow(values, points, func, getAggFunc(func)!, 0);
      const want = naive(values, points, func, 0);
      got.forEach((x, i) => assert.ok(Object.is(x, want[i]), `${func} window ${points} [${i}]: ${x} vs ${want[i]}`));
    }
  }
});

test('the sliding median is the sorted window\'s median bit for bit: duplicates, 0 and -0, infinities, nulls', () => {
  let seed = 23;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = (): number => {
    const r = rand();
    if (r < 0.15) return NaN;
    if (r < 0.25) return rand() < 0.5 ? 0 : -0;
    if (r < 0.3) return rand() < 0.5 ? Infinity : -Infinity;
    return Math.floor(rand() * 20) / 4 - 2; // few distinct values: long runs of equal ones
  };
  for (const points of [1, 2, 3, 4, 9, 64, 257]) {
    const values = Float64Array.from({ length: 1500 }, pick);
    for (const xff of [0, 0.6]) {
      const got = slidingWindow(values, points, 'median', getAggFunc('median')!, xff);
      const want = naive(values, points, 'median', xff);
      got.forEach((x, i) => assert.ok(Object.is(x, want[i]), `window ${points} xff ${xff} [${i}]: ${x} vs ${want[i]}`));
    }
  }
});

test('long sliding sums and averages stay exact after a huge value has passed through the window', () => {
  let seed = 5;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  // small values with a 1e15 spike every 997 points and some nulls; 50 × 30,000 additions is past
  // EXACT_SUM_ADDS, so the window slides (a plain running sum was off by up to 0.6 % here)
  const values = Float64Array.from({ length: 30_000 }, (_, i) => (i % 997 === 7 ? 1e15 : rand() < 0.05 ? NaN : 0.3 + Math.round(rand() * 16) / 10));
  for (const func of ['sum', 'average']) {
    const got = slidingWindow(values, 50, func, getAggFunc(func)!, 0);
    const want = naive(values, 50, func, 0);
    got.forEach((x, i) => {
      const w = want[i]!;
      assert.ok(Number.isNaN(w) ? Number.isNaN(x) : Math.abs(x - w) <= 1e-12 * Math.max(1, Math.abs(w)), `${func} [${i}]: ${x} vs graphite-web's ${w}`);
    });
  }
});
