import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameCache } from '../../../core/index.js';
import { CarbonLineParser, type LineParserOptions } from './line-parser.js';
import { parsePyFloat } from './number.js';
import { LINE_CASES } from './cases.js';

const NOW = 1_700_000_123.5;

function run(text: string, mode: 'lf' | 'splitlines', opts: Partial<LineParserOptions> = {}) {
  const points: Array<[string, number, number]> = [];
  const rejects: string[] = [];
  const p = new CarbonLineParser({ maxLineBytes: 16384, missingTimestamp: 'reject', ...opts }, new NameCache(), {
    point: (n, v, t) => points.push([n, v, t]),
    reject: (r) => rejects.push(r),
  });
  if (mode === 'lf') p.parseLF(text, 0, text.length, NOW);
  else p.parseSplitlines(text, NOW);
  return { points, rejects };
}

for (const c of LINE_CASES) {
  test(`line ${JSON.stringify(c.line.length > 40 ? `${c.line.slice(0, 40)}…` : c.line)}`, () => {
    for (const mode of ['lf', 'splitlines'] as const) {
      if (mode === 'splitlines' && c.line.includes('\r')) continue;
      const { points, rejects } = run(c.line, mode);
      if (c.want === undefined) {
        assert.deepEqual([points, rejects], [[], []]);
      } else if (typeof c.want === 'string') {
        assert.deepEqual([points, rejects], [[], [c.want]]);
      } else {
        assert.deepEqual(rejects, []);
        assert.deepEqual(points, [[c.want.name, c.want.value, c.want.time === 'now' ? NOW : c.want.time]]);
      }
    }
  });
}

test('missingTimestamp: now stamps two-field lines with the clock', () => {
  assert.deepEqual(run('a.b 1\n', 'lf', { missingTimestamp: 'now' }).points, [['a.b', 1, NOW]]);
});

test('UDP datagrams split on every line break Python splitlines() knows', () => {
  const { points } = run('a 1 1\r\nb 2 2\rc 3 3\nd 4 4\u2028e 5 5\u000bf 6 6', 'splitlines');
  assert.deepEqual(points.map((p) => p[0]), ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('TCP framing splits on LF only: a CR inside a line is whitespace, not a break', () => {
  assert.deepEqual(run('a 1\r2\n', 'lf').points, [['a', 1, 2]]);
});

test('a bad line in the middle does not lose its neighbours', () => {
  const { points, rejects } = run('a 1 1\nnot a number here\nb 2 2\n', 'lf');
  assert.deepEqual(points, [['a', 1, 1], ['b', 2, 2]]);
  assert.deepEqual(rejects, ['bad_fields']);
});

test('parsePyFloat agrees with Number() on the fast path and with Python on the rest', () => {
  const rnd = mulberry32(7);
  for (let i = 0; i < 20000; i++) {
    const s = (rnd() * 10 ** Math.floor(rnd() * 12)).toFixed(Math.floor(rnd() * 8));
    assert.equal(parsePyFloat(s, 0, s.length), Number(s), s);
  }
  for (const [s, v] of [['1_0', 10], ['-0', -0], ['1E+2', 100], ['infinity', Infinity], ['-NAN', NaN], ['00012', 12]] as const) {
    assert.ok(Object.is(parsePyFloat(s, 0, s.length), v), s);
  }
  for (const s of ['', '+', '-', '.', 'e1', '1e', '_1', '1_', '1._5', '0x1', '0b1', '1 2', 'Infinity1', '٣']) {
    assert.equal(parsePyFloat(s, 0, s.length), undefined, JSON.stringify(s));
  }
});

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
