import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderJson, renderRaw, renderCsv, type RenderSeries } from './formats.js';

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
