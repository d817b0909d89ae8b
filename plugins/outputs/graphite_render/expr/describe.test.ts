import assert from 'node:assert/strict';
import { test } from 'node:test';
import { functionDescriptions } from './index.js';

const GROUPS = new Set(['Alias', 'Calculate', 'Combine', 'Filter Data', 'Filter Series', 'Graph', 'Sorting', 'Special', 'Transform']);
const TYPES = new Set(['aggFunc', 'aggOrSeriesFunc', 'any', 'boolean', 'date', 'float', 'integer', 'interval', 'intOrInf', 'intOrInterval', 'node', 'nodeOrTag', 'series', 'seriesList', 'seriesLists', 'string', 'tag']);

test('/functions describes every name graphite-web 1.1.8 has, in its shape', () => {
  const all = functionDescriptions();
  assert.equal(Object.keys(all).length, 151);
  for (const [name, info] of Object.entries(all)) {
    assert.equal(info.name, name);
    assert.equal(info.module, 'graphite.render.functions');
    assert.ok(GROUPS.has(info.group), `${name}: group ${info.group}`);
    assert.ok(info.description.length > 10, `${name}: description`);
    assert.ok(info.function.startsWith(`${name}(`), `${name}: signature`);
    for (const p of info.params) {
      assert.ok(TYPES.has(p.type), `${name}.${p.name}: type ${p.type}`);
      for (const k of Object.keys(p)) assert.ok(['name', 'type', 'required', 'default', 'multiple', 'options', 'suggestions'].includes(k), `${name}.${p.name}: key ${k}`);
    }
  }
});

test('details Grafana relies on', () => {
  const all = functionDescriptions();
  assert.deepEqual(all.movingAverage!.params.map((p) => p.type), ['seriesList', 'intOrInterval', 'float']);
  assert.equal(all.movingAverage!.function, 'movingAverage(seriesList, windowSize, xFilesFactor=None)');
  assert.deepEqual(all.keepLastValue!.params[1], { name: 'limit', type: 'intOrInf', default: Infinity });
  assert.deepEqual(all.sumSeries!.params, [{ name: 'seriesLists', type: 'seriesList', required: true, multiple: true }]);
  const cb = all.groupByNode!.params[2]!;
  assert.equal(cb.default, 'average');
  assert.ok(cb.options!.includes('sumSeries') && cb.options!.includes('sum') && cb.options!.includes('asPercent'));
  assert.deepEqual(all.consolidateBy!.params[1]!.options, ['average', 'avg', 'avg_zero', 'first', 'last', 'max', 'min', 'sum']);
  assert.equal(all.sum!.group, 'Combine');
  assert.ok(all.seriesByTag);
  // JSON.stringify would turn Infinity into null: the HTTP layer serialises it as 1e9999
  assert.ok(JSON.stringify(all).length > 10_000);
});

test('parameter metadata matches graphite-web 1.1.8 (test-support/functions-golden.json)', async () => {
  const { readFileSync } = await import('node:fs');
  const golden = JSON.parse(readFileSync(new URL('./test-support/functions-golden.json', import.meta.url), 'utf8')) as Record<
    string,
    { group: string; params: Record<string, unknown>[] }
  >;
  const all = functionDescriptions();
  const diffs: string[] = [];
  for (const [name, g] of Object.entries(golden)) {
    const mine = all[name];
    if (!mine) {
      diffs.push(`${name}: missing`);
      continue;
    }
    if (mine.group !== g.group) diffs.push(`${name}: group ${mine.group} != ${g.group}`);
    const norm = (p: Record<string, unknown>): string => JSON.stringify(p, (_k, v: unknown) => (v === Infinity ? 'inf' : v), 0);
    const a = mine.params.map((p) => norm(p as unknown as Record<string, unknown>));
    const b = g.params.map((p) => norm(Object.fromEntries(Object.entries(p).sort(([x], [y]) => ['name', 'type', 'required', 'default', 'multiple', 'options', 'suggestions'].indexOf(x) - ['name', 'type', 'required', 'default', 'multiple', 'options', 'suggestions'].indexOf(y)))));
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${name}:\n  ours   ${a.join(' ')}\n  theirs ${b.join(' ')}`);
  }
  assert.deepEqual(diffs, []);
});

test('docs/graphite-functions.md lists every function (no drift)', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../../../docs/graphite-functions.md', import.meta.url), 'utf8');
  const missing = Object.keys(functionDescriptions()).filter((n) => !doc.includes(`| \`${n}(`));
  assert.deepEqual(missing, []);
});

test('signatures read as graphite-web 1.1.8 shows them, Python argument names and defaults included', async () => {
  const { readFileSync } = await import('node:fs');
  const golden = JSON.parse(readFileSync(new URL('./test-support/functions-golden.json', import.meta.url), 'utf8')) as Record<string, { function: string }>;
  const all = functionDescriptions();
  const diffs = Object.entries(golden)
    .filter(([name, g]) => all[name]?.function !== g.function)
    .map(([name, g]) => `${all[name]?.function} != ${g.function}`);
  assert.deepEqual(diffs, []);
});
