import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameCache, SeriesIds } from '../../../core/index.js';
import { CarbonLineParser } from './line-parser.js';
import { ByteLineParser, RawNameTable } from './byte-lines.js';
import { LINE_CASES } from './cases.js';

const NOW = 1_700_000_123.5;
const MAX = 200;

type Out = Array<[string, number, number] | ['reject', string]>;

/** The reference: the whole text decoded and given to the string parser (LF framing). */
function viaString(text: Buffer): Out {
  const out: Out = [];
  const p = new CarbonLineParser({ maxLineBytes: MAX, missingTimestamp: 'reject' }, new NameCache(), {
    point: (n, v, t) => out.push([n, v, t]),
    reject: (r) => out.push(['reject', r]),
  });
  const s = text.toString('utf8');
  p.parseLF(s, 0, s.length, NOW);
  return out;
}

function viaBytes(text: Buffer, table = new RawNameTable(), series = new SeriesIds()): { out: Out; ids: number[] } {
  const out: Out = [];
  const ids: number[] = [];
  const names = new NameCache();
  const fallback = new CarbonLineParser({ maxLineBytes: MAX, missingTimestamp: 'reject' }, names, {
    point: (n, v, t) => {
      out.push([n, v, t]);
      ids.push(-1);
    },
    reject: (r) => out.push(['reject', r]),
  });
  const p = new ByteLineParser(MAX, table, names, series, fallback, {
    point: (n, v, t, id) => {
      out.push([n, v, t]);
      ids.push(id);
    },
  });
  p.parse(text, 0, text.length, NOW);
  return { out, ids };
}

/** deepEqual, but -0 and 0 differ (Object.is), as they do on disk */
function same(a: Out, b: Out, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual(a[i], b[i], what);
    for (let k = 1; k < 3; k++) assert.ok(Object.is(a[i]![k], b[i]![k]), `${what}: point ${i} field ${k}: ${String(a[i]![k])} vs ${String(b[i]![k])}`);
  }
}

test('every line case: bytes and string parsers agree', () => {
  for (const c of LINE_CASES) {
    const buf = Buffer.from(c.line, 'utf8');
    same(viaBytes(buf).out, viaString(buf), JSON.stringify(c.line));
  }
});

test('fuzz: 20,000 random lines of tricky bytes parse the same both ways', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const atoms = ['a', 'b', 'z', '.', '..', '_', '-', '+', '0', '1', '9', '5.', '.5', 'e', 'E3', ' ', '  ', '\t', '\r', ';', '=', 'x=y', '*', 'é', '\u00a0', '\u2028', 'inf', 'nan', '-1', '1e22', '99999999999999999', '0.1234567890123456789012345', '\u0000', '\u007f'];
  const tokens = (k: number): string => Array.from({ length: 1 + rnd(k) }, () => atoms[rnd(atoms.length)]).join('');
  for (let round = 0; round < 200; round++) {
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      const shape = rnd(4);
      if (shape === 0) lines.push(tokens(12));
      else if (shape === 1) lines.push(`m.${tokens(3)} ${tokens(3)} ${tokens(3)}`);
      else lines.push(`m.s${rnd(50)} ${rnd(2) ? '-' : ''}${rnd(100000)}${rnd(2) ? `.${rnd(1000)}` : ''} ${rnd(3) ? 1700000000 + rnd(1000) : -1}${rnd(5) ? '' : '\r'}`);
    }
    const buf = Buffer.from(lines.join('\n'), 'utf8');
    same(viaBytes(buf).out, viaString(buf), `round ${round}`);
  }
});

test('ids: one per canonical name, stable across reads, growth and a table reset', () => {
  const series = new SeriesIds();
  const table = new RawNameTable(5000);
  const text = Buffer.from(Array.from({ length: 12_000 }, (_, i) => `a.s${i % 6000} ${i} 1700000000\n`).join(''));
  const first = viaBytes(text, table, series);
  const second = viaBytes(text, table, series);
  for (const r of [first, second]) {
    assert.equal(r.out.length, 12_000);
    r.out.forEach((p, i) => assert.equal(series.nameOf(r.ids[i]!), p[0]));
  }
  assert.deepEqual(first.ids, second.ids);
  assert.equal(series.size, 6000);
  assert.ok(table.size <= 5000);
  // a name that canonicalizes (tags sorted) maps raw spellings to the canonical id
  const t = viaBytes(Buffer.from('cpu;b=2;a=1 1 1700000000\ncpu;a=1;b=2 2 1700000000\n'), table, series);
  assert.deepEqual(t.out.map((p) => p[0]), ['cpu;a=1;b=2', 'cpu;a=1;b=2']);
  assert.equal(t.ids[0], t.ids[1]);
});

test('a common-shape line longer than maxLineBytes is refused as the string parser refuses it', () => {
  const buf = Buffer.from(`a.${'x'.repeat(MAX)} 1 1700000000\nb 2 1700000000\n`);
  const out = viaBytes(buf).out;
  same(out, viaString(buf), 'long line');
  assert.deepEqual(out[0], ['reject', 'line_too_long']);
  // at the limit, a CR counts: MAX bytes before it pass, MAX + 1 with it do not (both parsers)
  for (const len of [MAX - 1, MAX, MAX + 1]) {
    const line = `a.${'y'.repeat(len - 'a. 1 1700000000\r'.length)} 1 1700000000\r`;
    assert.equal(Buffer.byteLength(line), len);
    const b = Buffer.from(`${line}\nb 2 1700000000\n`);
    const o = viaBytes(b).out;
    same(o, viaString(b), `line of ${len} bytes with CR`);
    assert.equal(o[0]![0] === 'reject', len > MAX, `line of ${len} bytes`);
  }
});
