import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExprParseError, parseTarget } from './index.js';

const cases: [string, unknown][] = [
  ['a.b.c', { type: 'path', path: 'a.b.c' }],
  ['servers.web-01.cpu_user:x', { type: 'path', path: 'servers.web-01.cpu_user:x' }],
  ['a.*.c?.[a-z0-9].{x,y}z', { type: 'path', path: 'a.*.c?.[a-z0-9].{x,y}z' }],
  ['a\\.b\\(c\\)', { type: 'path', path: 'a.b(c)' }],
  ['1min.load', { type: 'path', path: '1min.load' }],
  ['a.b=c', { type: 'path', path: 'a.b=c' }],
  [
    'scale(a.b, 2)',
    { type: 'call', name: 'scale', args: [{ type: 'path', path: 'a.b' }, { type: 'number', value: 2, isInt: true }], kwargs: [], raw: 'scale(a.b, 2)' },
  ],
];

for (const [src, want] of cases) {
  test(`parse ${src}`, () => assert.deepEqual(parseTarget(src), want));
}

test('literals: numbers, strings (raw, no escapes), booleans, none, inf', () => {
  const e = parseTarget(`f(x, -1, 1.5, 1e3, -2.5E-7, 'it\\'s', "\\1 A", TRUE, false, None, inf, 12abc)`);
  assert.equal(e.type, 'call');
  if (e.type !== 'call') return;
  assert.deepEqual(e.args.slice(1), [
    { type: 'number', value: -1, isInt: true },
    { type: 'number', value: 1.5, isInt: false },
    { type: 'number', value: 1000, isInt: false },
    { type: 'number', value: -2.5e-7, isInt: false },
    { type: 'string', value: "it\\'s" },
    { type: 'string', value: '\\1 A' },
    { type: 'boolean', value: true },
    { type: 'boolean', value: false },
    { type: 'none' },
    { type: 'number', value: Infinity, isInt: false },
    { type: 'path', path: '12abc' },
  ]);
});

test('a doubled quote inside a string is part of it, kept as written (pyparsing quotedString)', () => {
  const e = parseTarget(`f(x, 'it''s', "say ""hi""", '''', '', 'a''', "")`);
  assert.ok(e.type === 'call');
  assert.deepEqual(e.args.slice(1), [
    { type: 'string', value: "it''s" },
    { type: 'string', value: 'say ""hi""' },
    { type: 'string', value: "''" },
    { type: 'string', value: '' },
    { type: 'string', value: "a''" },
    { type: 'string', value: '' },
  ]);
  assert.throws(() => parseTarget(`f(x, 'a'')`), /unterminated string/);
});

test('keyword arguments follow positional ones', () => {
  const e = parseTarget('summarize(a.b, "1h", func="max", alignToFrom=true)');
  assert.ok(e.type === 'call');
  assert.deepEqual(
    e.kwargs.map((k) => [k.name, k.value]),
    [
      ['func', { type: 'string', value: 'max' }],
      ['alignToFrom', { type: 'boolean', value: true }],
    ],
  );
  assert.throws(() => parseTarget('f(x=1, a.b)'), ExprParseError);
});

test('pipes desugar into nested calls', () => {
  assert.deepEqual(parseTarget('a.b | scale(2)|alias("x")'), {
    type: 'call',
    name: 'alias',
    args: [
      { type: 'call', name: 'scale', args: [{ type: 'path', path: 'a.b' }, { type: 'number', value: 2, isInt: true }], kwargs: [], raw: 'scale(2)' },
      { type: 'string', value: 'x' },
    ],
    kwargs: [],
    raw: 'alias("x")',
  });
});

test('nested calls and seriesByTag keep their raw text', () => {
  const e = parseTarget("sumSeries(seriesByTag('name=cpu', 'dc=eu'), b.*)");
  assert.ok(e.type === 'call');
  const inner = e.args[0]!;
  assert.ok(inner.type === 'call');
  assert.equal(inner.raw, "seriesByTag('name=cpu', 'dc=eu')");
});

test('template()', () => {
  const e = parseTarget('template(a.$1.$x, "w", x="y")');
  assert.equal(e.type, 'template');
});

const bad: [string, number][] = [
  ['', 0],
  ['   ', 0],
  ['f(a.b', 5],
  ['f(a.b,)', 6],
  ['a..b', 2],
  ['a.b.', 4],
  ['f(a.b) x', 7],
  ['f("abc)', 2],
  ['a.{b,c', 2],
  ['a.b | c', 6],
  ['f(a) (b)', 5],
];
for (const [src, pos] of bad) {
  test(`refuses ${JSON.stringify(src)}`, () => {
    assert.throws(
      () => parseTarget(src),
      (err: unknown) => err instanceof ExprParseError && typeof err.position === 'number' && err.position === pos,
    );
  });
}

test('nesting is limited', () => {
  const deep = `${'f('.repeat(40)}a${')'.repeat(40)}`;
  assert.throws(() => parseTarget(deep, { maxDepth: 20 }), /nested deeper/);
  assert.ok(parseTarget(deep, { maxDepth: 50 }));
  // a pipe nests as a call does (`a|f()|g()` is g(f(a))): 5,000 pipes overflowed the stack
  const piped = `a${'|absolute()'.repeat(40)}`;
  assert.throws(() => parseTarget(piped, { maxDepth: 20 }), /nested deeper/);
  assert.ok(parseTarget(piped, { maxDepth: 50 }));
  assert.throws(() => parseTarget(`a${'|absolute()'.repeat(5000)}`), ExprParseError);
  // the default limit is generous but bounded, so a hostile target cannot exhaust the stack
  const hostile = `${'f('.repeat(5000)}a${')'.repeat(5000)}`;
  assert.throws(() => parseTarget(hostile), ExprParseError);
});

test('garbage never throws anything but ExprParseError', () => {
  const alphabet = ['a', '.', '(', ')', ',', '"', "'", '{', '}', '|', '=', '1', '-', ' ', '\\', '*', 'e'];
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    let s = '';
    for (let k = rand(20); k > 0; k--) s += alphabet[rand(alphabet.length)];
    try {
      parseTarget(s);
    } catch (err) {
      assert.ok(err instanceof ExprParseError, `${JSON.stringify(s)}: ${String(err)}`);
    }
  }
});
