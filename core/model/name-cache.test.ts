import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBadName } from './metric-name.js';
import { NameCache } from './name-cache.js';

test('names are validated, tags normalised, and the cache stays bounded', () => {
  const m = new NameCache(4);
  assert.equal(m.resolve('a.b'), 'a.b');
  assert.equal(m.resolve('x;zone=b;app=a'), 'x;app=a;zone=b');
  assert.equal(m.resolve('x;zone=b;app=a'), 'x;app=a;zone=b'); // a hit
  const bad = m.resolve('a..b');
  assert.ok(isBadName(bad) && bad.bad === 'node_empty');
  assert.equal(m.size, 2, 'refused names are not kept');
  for (let i = 0; i < 10; i++) m.resolve(`n.${i}`);
  assert.ok(m.size <= 4);
});

test('a name found inside a larger string comes back as its own canonical string', () => {
  const m = new NameCache();
  const chunk = `${'x'.repeat(100)} servers.web1.cpu.user 1 2\nm;b=2;a=1 3 4\n`;
  assert.equal(m.resolveRegion(chunk, 101, 122), 'servers.web1.cpu.user');
  assert.equal(m.resolveRegion(chunk, 127, 136), 'm;a=1;b=2');
  assert.equal(m.resolveRegion(chunk, 101, 122), 'servers.web1.cpu.user');
  assert.equal(m.size, 2);
});

test("leading '~' is dropped from every name, as carbon's TaggedSeries does (lstrip)", async () => {
  const { normalizeSeriesName } = await import('./metric-name.js');
  assert.equal(normalizeSeriesName('~a.b'), 'a.b');
  assert.equal(normalizeSeriesName('~~a.b;k=v'), 'a.b;k=v');
  assert.equal(normalizeSeriesName('~a.b;k=v'), 'a.b;k=v');
  assert.equal(normalizeSeriesName('a.~b'), 'a.~b');
  const empty = normalizeSeriesName('~~');
  assert.ok(isBadName(empty), JSON.stringify(empty));
});
