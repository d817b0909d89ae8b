import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderJson, renderRaw, renderCsv, renderCsvPieces, type RenderSeries } from './formats.js';

const s = (name: string, values: number[], start = 1700000000, step = 60): RenderSeries => ({
  name, start, end: start + step * values.length, step, values: Float64Array.from(values),
  tags: { name }, pathExpression: name, consolidationFunc: 'average', xFilesFactor: 0,
});

test('json: NaN null, infinities as graphite-web writes them or null for Go clients', () => {
  const one = [s('a', [1.5, NaN, Infinity, -Infinity])];
  assert.equal(renderJson(one, { noNullPoints: false, pretty: false, infinity: '1e9999' }),
    '[{"target":"a","tags":{"name":"a"},"datapoints":[[1.5,1700000000],[null,1700000060],[1e9999,1700000120],[-1e9999,1700000180]]}]');
  assert.equal(renderJson(one, { noNullPoints: true, pretty: false, infinity: 'null' }),
    '[{"target":"a","tags":{"name":"a"},"datapoints":[[1.5,1700000000],[null,1700000120],[null,1700000180]]}]');
  assert.equal(renderJson([s('b', [NaN])], { noNullPoints: true, pretty: false, infinity: '1e9999' }), '[]');
});

test('raw and csv use Python reprs', () => {
  assert.equal(renderRaw([s('a', [1, NaN, 1e16, 0.0001, 1e-5])]), 'a,1700000000,1700000300,60|1.0,None,1e+16,0.0001,1e-05\n');
  assert.equal(renderCsv([s('a,b', [2, NaN])], 'UTC'), '"a,b",2023-11-14 22:13:20,2.0\r\n"a,b",2023-11-14 22:14:20,\r\n');
});

test('csv in pieces: the same rows, on the wall clock across DST changes, in bounded pieces', () => {
  // a week of minutes over Europe/Berlin's spring-forward and Lord Howe's half-hour shift
  for (const [zone, start] of [['Europe/Berlin', Date.UTC(2024, 2, 28) / 1000], ['Australia/Lord_Howe', Date.UTC(2024, 3, 4) / 1000]] as const) {
    const n = 7 * 1440;
    const series = s('x', Array.from({ length: n }, (_, i) => i), start);
    const pieces = [...renderCsvPieces([series], zone)];
    assert.ok(pieces.length > 1 && pieces.every((p) => p.split('\r\n').length <= 4097), 'bounded pieces');
    const rows = pieces.join('').split('\r\n').slice(0, -1);
    assert.equal(rows.length, n);
    const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    for (let i = 0; i < n; i += 7) assert.equal(rows[i], `x,${fmt.format(new Date((start + i * 60) * 1000))},${i}.0`, `${zone} row ${i}`);
  }
});
