import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleType } from '../../../core/index.js';
import { StatsdLineParser, parseRate, sanitizeKey, type BadLineReason, type StatsdParseOptions } from './parse.js';

interface Got {
  samples: Array<[string, SampleType, number, number, string?]>;
  bad: BadLineReason[];
}

function parse(text: string, opts: Partial<StatsdParseOptions> = {}): Got & { lines: number } {
  const got: Got = { samples: [], bad: [] };
  const p = new StatsdLineParser(
    { keySanitize: 'all', typeDialect: 'etsy', ...opts },
    {
      sample: (k, t, v, r, m) => got.samples.push(m === undefined ? [k, t, v, r] : [k, t, v, r, m]),
      bad: (reason) => got.bad.push(reason),
    },
  );
  const c = p.packet(text);
  assert.equal(c.bad, got.bad.length);
  assert.equal(c.samples, got.samples.length);
  return { ...got, lines: c.lines };
}

test('each type and the sample rate', () => {
  const r = parse('c:2|c|@0.5\nt:320|ms\ng:333|g\nu:765|s');
  assert.deepEqual(r.samples, [
    ['c', SampleType.Counter, 2, 0.5],
    ['t', SampleType.Timer, 320, 1],
    ['g', SampleType.Gauge, 333, 1],
    ['u', SampleType.Set, 1, 1, '765'],
  ]);
  assert.equal(r.lines, 4);
});

test('gauge signs ask for a delta; the rate of a gauge is ignored', () => {
  assert.deepEqual(parse('g:+5|g\ng:-3|g|@0.1').samples, [
    ['g', SampleType.GaugeDelta, 5, 1],
    ['g', SampleType.GaugeDelta, -3, 1],
  ]);
});

test('several samples per key; a bad one does not spoil the others', () => {
  const r = parse('a:1|c:x|c:2|ms');
  assert.deepEqual(r.samples, [
    ['a', SampleType.Counter, 1, 1],
    ['a', SampleType.Timer, 2, 1],
  ]);
  assert.deepEqual(r.bad, ['bad_value']);
});

test('the bad-input catalogue: each is counted by reason and valid lines in the packet survive', () => {
  const bad = [
    ['nokey', 'no_type'],
    ['x:1', 'no_type'],
    ['x:abc|c', 'bad_value'],
    ['x:1|c|@abc', 'bad_rate'],
    ['x:1|c|@-1', 'bad_rate'],
    ['x:1|c|@0', 'bad_rate'],
    ['x:1|c|@+0.5', 'bad_rate'],
    [':1|c', 'name_empty'],
    ['x:-1|ms', 'bad_value'],
    ['x:Infinity|c', 'bad_value'],
    ['x:abc|g', 'bad_value'],
    ['a..b:1|c', 'node_empty'],
    ['x:1|c|#flag', 'tag_invalid'],
    [`${'k'.repeat(70_000)}:1|c`, 'name_too_long'],
    ['\u0000:1|c', 'name_empty'],
  ] as const;
  const packet = ['ok:1|c', ...bad.map(([l]) => l), 'ok:2|c', '\uFFFD\uFFFD:3|c'].join('\n');
  const r = parse(packet);
  assert.deepEqual(r.bad, [...bad.map(([, reason]) => reason), 'name_empty']);
  assert.deepEqual(r.samples, [
    ['ok', SampleType.Counter, 1, 1],
    ['ok', SampleType.Counter, 2, 1],
  ]);
});

test('rates: Etsy reads the leading digits and dots', () => {
  assert.equal(parseRate('@0.5'), 0.5);
  assert.equal(parseRate('@.25'), 0.25);
  assert.equal(parseRate('@1e-3'), 1);
  assert.equal(parseRate('@5.'), 5);
  assert.ok(Number.isNaN(parseRate('@')));
  assert.ok(Number.isNaN(parseRate('0.5')));
  assert.equal(parseRate('@0'), 0);
  assert.equal(parseRate('@.0e5'), 0);
  assert.ok(Number.isNaN(parseRate('@ 1')));
  assert.ok(Number.isNaN(parseRate('@+0.5')));
});

test('a zero rate is refused for counters and timers, ignored for gauges and sets (as Etsy)', () => {
  const r = parse('c:1|c|@0\nt:5|ms|@0.0\nh:1|h|@0\ng:5|g|@0\nd:-2|g|@0\ns:x|s|@0x1');
  assert.deepEqual(r.bad, ['bad_rate', 'bad_rate', 'bad_rate']);
  assert.deepEqual(r.samples, [
    ['g', SampleType.Gauge, 5, 1],
    ['d', SampleType.GaugeDelta, -2, 1],
    ['s', SampleType.Set, 1, 1, 'x'],
  ]);
});

test('tiny sample rates cost nothing: the rate is kept, never expanded into copies', () => {
  const r = parse('t:1|ms|@0.000001\nc:1|c|@0.000001');
  assert.deepEqual(r.samples, [
    ['t', SampleType.Timer, 1, 0.000001],
    ['c', SampleType.Counter, 1, 0.000001],
  ]);
});

test('DogStatsD tags become canonical Graphite tags; Graphite tags in the key pass', () => {
  assert.deepEqual(parse('m:1|c|#zone:b,app:web').samples, [['m;app=web;zone=b', SampleType.Counter, 1, 1]]);
  assert.deepEqual(parse('m;env=prod:1|c').samples, [['m;env=prod', SampleType.Counter, 1, 1]]);
  assert.deepEqual(parse('m:1|c|@0.5|#env:prod|#ignored:x').samples, [['m;env=prod', SampleType.Counter, 1, 0.5]]);
});

test('key sanitising as Etsy: whitespace runs, slashes, odd characters', () => {
  assert.equal(sanitizeKey('my key/with  spaces*!'), 'my_key-with_spaces');
  assert.deepEqual(parse('a/b:1|c|#env:x-y', { keySanitize: 'metric_only' }).samples, [['a-b;env=x-y', SampleType.Counter, 1, 1]]);
});

test("types: h, d, typos and '' are counters for Etsy; h and d are timers in the dogstatsd dialect", () => {
  const text = 'h:5|h\nd:3|d\nz:2|zz\ne:1|';
  assert.deepEqual(
    parse(text).samples.map((s) => s[1]),
    [SampleType.Counter, SampleType.Counter, SampleType.Counter, SampleType.Counter],
  );
  assert.deepEqual(
    parse(text, { typeDialect: 'dogstatsd' }).samples.map((s) => s[1]),
    [SampleType.Timer, SampleType.Timer, SampleType.Counter, SampleType.Counter],
  );
});

test('unknown trailing fields are ignored; CRLF lines work', () => {
  assert.deepEqual(parse('a:1|c|@0.5|c|T1700000000\r\nb:2|ms\r\n').samples, [
    ['a', SampleType.Counter, 1, 0.5],
    ['b', SampleType.Timer, 2, 1],
  ]);
});

test('empty lines and empty packets count no lines', () => {
  assert.equal(parse('').lines, 0);
  assert.equal(parse('\n\n').lines, 0);
  assert.equal(parse('\na:1|c\n\n').lines, 1);
});

test('the key cache stays correct across generations (250,000 distinct keys)', () => {
  const keys: string[] = [];
  const p = new StatsdLineParser({ keySanitize: 'all', typeDialect: 'etsy' }, { sample: (k) => void keys.push(k), bad: () => {} });
  for (let i = 0; i < 250_000; i++) p.packet(`k.n${i} x:1|c`);
  p.packet('k.n1 x:1|c\nk.n249999 x:1|c\nk.n120000 x:1|c');
  assert.deepEqual(keys.slice(-3), ['k.n1_x', 'k.n249999_x', 'k.n120000_x']);
  assert.equal(keys[7], 'k.n7_x');
});

test('dogstatsd dialect: packed values share the type and rate of the last one', () => {
  assert.deepEqual(parse('h:1:2:3|h|@0.5|#env:prod', { typeDialect: 'dogstatsd' }).samples, [
    ['h;env=prod', SampleType.Timer, 1, 0.5],
    ['h;env=prod', SampleType.Timer, 2, 0.5],
    ['h;env=prod', SampleType.Timer, 3, 0.5],
  ]);
  // Etsy's reading of the same line: only the last value has a type
  const etsy = parse('h:1:2:3|h');
  assert.deepEqual(etsy.bad, ['no_type', 'no_type']);
  // mixed samples are not packing
  assert.deepEqual(parse('a:1|c:2|ms', { typeDialect: 'dogstatsd' }).samples.length, 2);
});
