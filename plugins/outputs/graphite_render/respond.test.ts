import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonp, graphiteJson, quote, safeStringify, ApiError, yielding } from './respond.js';
import { treeJson } from './metrics-handler.js';
import { timeRange } from './render-handler.js';
import { Params } from './params.js';

test('jsonp callbacks: identifiers and dotted paths only', () => {
  for (const ok of ['cb', 'jQuery123_456', 'a.b.c', '$', '_x']) assert.equal(checkJsonp(ok), ok);
  assert.equal(checkJsonp(undefined), undefined);
  assert.equal(checkJsonp(''), undefined);
  for (const bad of ['alert(1)', 'a b', 'a;b', '1a', 'a..b', '<x>', 'a.', 'x'.repeat(65), 'a\nb']) {
    assert.throws(() => checkJsonp(bad), ApiError, bad);
  }
});

test('graphite JSON numbers: NaN null, infinities 1e9999, markup escaped', () => {
  assert.equal(graphiteJson([NaN, Infinity, -Infinity, 1.5]), '[null,1e9999,-1e9999,1.5]');
  assert.equal(graphiteJson({ a: '<script>&' }), '{"a":"\\u003cscript\\u003e\\u0026"}');
  assert.deepEqual(JSON.parse(safeStringify({ a: '</b>' })), { a: '</b>' });
  assert.equal(quote('x'.repeat(200), 5), '"xxxxx…"');
});

test('treejson: wildcard entry, dedup by name, branches before leaves', () => {
  const nodes = [
    { path: 'a.x', isLeaf: true, name: 'x' },
    { path: 'a.x', isLeaf: false, name: 'x' },
    { path: 'a.y', isLeaf: false, name: 'y' },
  ];
  assert.deepEqual(treeJson(nodes, 'a.', true), [
    { text: '*', id: 'a.*', allowChildren: 1, expandable: 1, leaf: 0 },
    { text: 'y', id: 'a.y', allowChildren: 1, expandable: 1, leaf: 0 },
    { text: 'x', id: 'a.x', allowChildren: 0, expandable: 0, leaf: 1 },
  ]);
});

test('time range: defaults, swap, empty range, now', () => {
  const p = (o: Record<string, string>) => {
    const x = new Params();
    for (const [k, v] of Object.entries(o)) x.add(k, v);
    return x;
  };
  assert.deepEqual(timeRange(p({}), 1700000000.5, 'UTC'), { from: 1699913600, until: 1700000000, now: 1700000000, zone: 'UTC' });
  assert.deepEqual(timeRange(p({ from: '-1h', until: '-2h' }), 1700000000, 'UTC'), { from: 1699992800, until: 1699996400, now: 1700000000, zone: 'UTC' });
  assert.deepEqual(timeRange(p({ now: '1600000000', from: '-1h' }), 1700000000, 'UTC').from, 1599996400);
  assert.throws(() => timeRange(p({ from: '-1h', until: '-60min' }), 1700000000, 'UTC'), /empty time range/);
  assert.equal(timeRange(p({ tz: 'Europe/Berlin', from: 'midnight' }), 1700000000, 'UTC').from, 1699916400);
});

test('params: last value wins, lists accumulate, target[] fallback', () => {
  const x = new Params();
  x.add('target[]', 'a');
  x.add('target[]', 'b');
  x.add('format', 'csv');
  x.add('format', 'json');
  assert.deepEqual(x.getList('target'), ['a', 'b']);
  assert.equal(x.get('format'), 'json');
});

test('multipart form fields (graphite-web cluster POSTs)', async () => {
  const { parseMultipart } = await import('./params.js');
  const b = 'XyZ';
  const body = `--${b}\r\nContent-Disposition: form-data; name="local"\r\n\r\n1\r\n--${b}\r\nContent-Disposition: form-data; name="target"\r\n\r\nsumSeries(a.*)\r\n--${b}\r\nContent-Disposition: form-data; name="target"\r\n\r\nb.c\r\n--${b}--\r\n`;
  assert.deepEqual(parseMultipart(body, b), [['local', '1'], ['target', 'sumSeries(a.*)'], ['target', 'b.c']]);
});

test('a streamed answer gives the event loop a turn every few pieces, jsonp wrapped around', async () => {
  const pieces = Array.from({ length: 100 }, (_, i) => `p${i},`);
  let turnAt = -1;
  let taken = 0;
  setImmediate(() => (turnAt = taken));
  const out: string[] = [];
  for await (const p of yielding(pieces, 'cb')) {
    out.push(p);
    taken++;
  }
  assert.ok(turnAt > 0 && turnAt < 20, `the loop ran after ${turnAt} of ${taken} pieces`);
  assert.equal(out.join(''), `/**/cb(${pieces.join('')})`);
});
