import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AtTimeError, parseAtTime } from './attime.js';

// The forms the events API (from/until, `carbonado event --when`) relies on, through the one
// shared parser. now = 2023-11-14 22:13:20 UTC, a Tuesday; values as graphite-web computes them in UTC
const NOW = 1700000000;

test('graphite-web attime forms', () => {
  const cases: Array<[string, number]> = [
    ['now', NOW],
    ['', NOW],
    ['-', NOW],
    ['1699999999', 1699999999],
    ['-1h', 1699996400],
    ['now-1h', 1699996400],
    ['-2d', 1699827200],
    ['-5min', NOW - 300],
    ['-1h30min', NOW - 5400],
    ['-1mon', 1697408000],
    ['-1y', NOW - 365 * 86400],
    ['-1w', NOW - 7 * 86400],
    ['+10s', NOW + 10],
    ['20231101', 1698796800],
    ['04:00_20231101', 1698811200],
    ['noon+1d', 1700049600],
    ['midnight-1d', 1699833600],
    ['yesterday', 1699833600],
    ['monday', 1699833600],
    ['tuesday', 1699920000],
    ['today', 1699920000],
    ['tomorrow', 1700006400],
    ['teatime', 1699977600],
    ['9am', 1699952400],
    ['3pm', 1699974000],
    ['12:00pm', 1699920000],
    ['12am', 1699963200],
    ['11/01/23', 1698796800],
    ['nov1', 1698796800],
    ['Nov 1', 1698796800],
  ];
  for (const [input, want] of cases) assert.equal(parseAtTime(input, { now: NOW }), want, input);
});

test('invalid forms throw AtTimeError (the events API answers a fixed message, never the input)', () => {
  for (const bad of ['-5m', 'now-1d-2h', 'bogus', '<script>', 'jan', '-1x', '02/30/23', '25:00', 'x'.repeat(100)]) {
    assert.throws(() => parseAtTime(bad, { now: NOW }), (e: unknown) => e instanceof AtTimeError, bad);
  }
});
