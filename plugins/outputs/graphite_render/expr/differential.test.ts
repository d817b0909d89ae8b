/**
 * Differential test against graphite-web 1.1.8: test-support/golden.json holds what the Debian
 * graphite-web package answered for each target in test-support/cases.json over the same
 * fixture data (recorded by test-support/record-graphite.py, which runs graphite-web's own
 * evaluator and function library unchanged). Each case is replayed through our evaluator.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { evaluateTarget, parseTarget, type TimeSeries } from './index.js';
import { FakeStore, type FixtureSeries } from './test-support/fake-store.js';

interface GoldenSeries {
  name: string;
  start: number;
  end: number;
  step: number;
  values: (number | string | null)[];
  tags: Record<string, string>;
  consolidationFunc: string;
}
interface GoldenResult {
  target: string;
  series?: GoldenSeries[];
  error?: number;
  message?: string;
}

const dir = new URL('./test-support/', import.meta.url);
const spec = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { from: number; until: number; fixtures: FixtureSeries[] };
const golden = JSON.parse(readFileSync(new URL('golden.json', dir), 'utf8')) as { results: GoldenResult[] };

/**
 * Where carbonado deliberately differs (docs/graphite-functions.md lists them):
 * graphite-web crashes (500) on these, or accepts invalid arguments without
 * ENFORCE_INPUT_VALIDATION; carbonado answers or refuses with 400.
 */
const KNOWN: Record<string, string> = {
  'nonNegativeDerivative(counters.requests,600)': 'graphite-web 500s comparing None with maxValue; we treat null as a gap',
  'nonNegativeDerivative(counters.requests,600,10)': 'same graphite-web crash',
  'perSecond(counters.requests,600)': 'same graphite-web crash',
  'removeBetweenPercentile(servers.*.cpu.*,90)': 'graphite-web 500s on a null; nulls count as outside the band here',
  'consolidateBy(servers.web01.cpu.user,"median")': 'graphite-web accepts any name here and fails later when consolidating; we refuse it (400)',
  'highest(servers.*.cpu.*)': 'n is a required parameter; graphite-web logs and falls back to 1, we refuse (400)',
  'timeSlice(servers.web01.cpu.user,"1700000100")': 'graphite-web resolves the default "now" with the wall clock; we use the request\'s now',
  'verticalLine("1699999900")': 'graphite-web names an unlabelled line None (JSON null); ours is the empty string',
  'useSeriesAbove(servers.*.cpu.user,12,"user","system")': 'graphite-web 500s on a series holding a null; we skip nulls',
  'movingAverage(servers.web01.cpu.user,1.5)': 'graphite-web logs and carries on with a float window; we refuse it (400)',
};

function norm(v: number | string | null): number | null {
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v as number | null;
}

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function summary(s: TimeSeries): GoldenSeries {
  return {
    name: s.name,
    start: s.start,
    end: s.end,
    step: s.step,
    values: Array.from(s.values, (v) => (Number.isNaN(v) ? null : v)),
    tags: s.tags,
    consolidationFunc: s.consolidationFunc,
  };
}

for (const g of golden.results) {
  test(`graphite-web parity: ${g.target}`, async () => {
    const store = new FakeStore(spec.fixtures);
    const ctx = { from: spec.from, until: spec.until, now: spec.until, store, maxSeriesPerTarget: 1000 };
    let got: TimeSeries[] | undefined;
    let err: unknown;
    try {
      got = await evaluateTarget(parseTarget(g.target), ctx);
    } catch (e) {
      err = e;
    }
    if (KNOWN[g.target]) return;
    if (g.error !== undefined) {
      assert.ok(err, `graphite-web refused this (${g.error}: ${g.message}), carbonado answered`);
      return;
    }
    if (err) throw err;
    const want = g.series!;
    assert.deepEqual(
      got!.map((s) => s.name),
      want.map((s) => s.name),
      'series names',
    );
    got!.forEach((s, i) => {
      const w = want[i]!;
      const mine = summary(s);
      assert.equal(mine.start, w.start, `${w.name}: start`);
      assert.equal(mine.step, w.step, `${w.name}: step`);
      assert.equal(mine.end, w.end, `${w.name}: end`);
      assert.equal(mine.consolidationFunc, w.consolidationFunc === 'avg' ? 'average' : w.consolidationFunc, `${w.name}: consolidationFunc`);
      assert.deepEqual(mine.tags, w.tags, `${w.name}: tags`);
      const wv = w.values.map(norm);
      assert.equal(mine.values.length, wv.length, `${w.name}: number of values`);
      mine.values.forEach((v, k) => assert.ok(close(v as number | null, wv[k]!), `${w.name}[${k}]: got ${v}, graphite-web ${wv[k]}`));
    });
  });
}
