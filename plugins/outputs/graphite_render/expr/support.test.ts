import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInterval } from './index.js';
import { pyD, pyFloat, pyG, pyRound } from './pyformat.js';
import { pySearch, pySub } from './pyregex.js';

test('pyFloat matches Python str(float)', () => {
  const cases: [number, string][] = [
    [100, '100.0'],
    [1.5, '1.5'],
    [0.1, '0.1'],
    [-2.5e-7, '-2.5e-07'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [0, '0.0'],
    [1 / 3, '0.3333333333333333'],
    [123456789.125, '123456789.125'],
  ];
  for (const [x, want] of cases) assert.equal(pyFloat(x), want, String(x));
});

test("pyG matches Python '%g'", () => {
  const cases: [number, string][] = [
    [2, '2'],
    [0.5, '0.5'],
    [1000, '1000'],
    [1e6, '1e+06'],
    [123456, '123456'],
    [1234567, '1.23457e+06'],
    [-1.5, '-1.5'],
    [0.0001, '0.0001'],
    [0.00001234, '1.234e-05'],
    [1e400, 'inf'],
    [6.5, '6.5'],
    [100.0, '100'],
  ];
  for (const [x, want] of cases) assert.equal(pyG(x), want, String(x));
  assert.equal(pyD(2.9), '2');
  assert.equal(pyD(-2.9), '-2');
});

test('pyRound rounds half to even like Python 3', () => {
  assert.equal(pyRound(2.5), 2);
  assert.equal(pyRound(3.5), 4);
  assert.equal(pyRound(-2.5), -2);
  assert.equal(pyRound(2.675, 2), 2.67);
  assert.equal(pyRound(0.1234567, 6), 0.123457);
  assert.equal(pyRound(1.25, 1), 1.2);
});

test('parseInterval follows graphite offsets', () => {
  assert.equal(parseInterval('5min'), 300);
  assert.equal(parseInterval('-1d'), -86400);
  assert.equal(parseInterval('+1h'), 3600);
  assert.equal(parseInterval('1h30min'), 5400);
  assert.equal(parseInterval('2weeks'), 14 * 86400);
  assert.equal(parseInterval('1mon'), 30 * 86400);
  assert.equal(parseInterval('1y'), 365 * 86400);
  assert.equal(parseInterval('10seconds'), 10);
  for (const bad of ['5m', '', 'min', 'x1h', '1x', '-']) assert.throws(() => parseInterval(bad), RangeError, bad);
});

test('pySub: Python replacement syntax', () => {
  assert.equal(pySub('(^.*$)', '\\1 A', 'servers.web01.cpu'), 'servers.web01.cpu A');
  assert.equal(pySub('servers\\.(\\w+)\\..*', '\\g<1>-x', 'servers.web01.cpu'), 'web01-x');
  assert.equal(pySub('(?P<host>web\\d+)', '<\\g<host>>', 'a.web01.b'), 'a.<web01>.b');
  assert.equal(pySub('\\.', '_', 'a.b.c'), 'a_b_c');
  assert.equal(pySub('x*', '-', 'abxd'), '-a-b--d-');
  assert.equal(pySub('(a)|(b)', '[\\2]', 'ab'), '[][b]');
  assert.equal(pySub('a', '\\n', 'a'), '\n');
  assert.equal(pySub('a', '$1 \\.', 'a'), '$1 \\.');
  assert.throws(() => pySub('(', 'x', 'a'), /invalid regular expression/);
  assert.throws(() => pySub('(a)', '\\2', 'a'), /invalid group reference/);
  assert.ok(pySearch('(?i)WEB', 'web01'));
  assert.ok(!pySearch('^web', 'a.web'));
});
