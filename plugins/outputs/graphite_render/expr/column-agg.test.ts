import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateColumns } from './column-agg.js';
import { getAggFunc, safeMedian } from './safe.js';
import { row } from './normalize.js';
import { xffValues } from './functions/common.js';

/** deterministic PRNG (mulberry32), so a failure replays */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('column aggregation is bit-identical to the row loop: nulls, ±0, ragged lengths, xFilesFactor, aliases', () => {
  const r = rng(42);
  let checked = 0;
  for (let trial = 0; trial < 400; trial++) {
    const width = 1 + Math.floor(r() * 11);
    const cols = Array.from({ length: width }, () =>
      Float64Array.from({ length: Math.floor(r() * 14) }, () => {
        const x = r();
        return x < 0.3 ? NaN : x < 0.35 ? -0 : x < 0.4 ? 0 : (r() - 0.5) * 10 ** Math.floor(r() * 30 - 10);
      }),
    );
    const length = Math.max(0, ...cols.map((c) => c.length));
    for (const f of ['sum', 'total', 'average', 'avg', 'avg_zero', 'count', 'min', 'max', 'range', 'rangeOf', 'last', 'current']) {
      const agg = getAggFunc(f)!;
      for (const xff of [undefined, 0, 0.3, 0.5, 1]) {
        const got = aggregateColumns(cols, length, agg, xff)!;
        const rowv = new Float64Array(width);
        for (let i = 0; i < length; i++) {
          row(cols, i, rowv);
          const want = xffValues(rowv, xff) ? agg(rowv) : NaN;
          assert.ok(Object.is(got[i], want), `${f} xff=${xff} row ${i} [${[...rowv]}]: ${got[i]} != ${want}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 10_000);
});

test('functions without a column form are left to the row loop', () => {
  assert.equal(aggregateColumns([new Float64Array([1, 2])], 2, safeMedian, 0), undefined);
});
