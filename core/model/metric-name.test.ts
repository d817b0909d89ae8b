// Tagged names are canonicalised exactly as carbon does (carbon/util.py TaggedSeries): the same
// string means the same sha256, so the same whisper file as carbon-cache's and graphite-web's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { codePointCompare, isBadName, normalizeSeriesName } from './metric-name.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../../test/helpers/peers.js';

const CASES = [
  'x;dc2=2;dc=1',
  'x;dc=1;dc2=2',
  'cpu;env-type=prod;env=eu',
  'cpu;host.name=a;host=b',
  'cpu;a:b=1;a=2;a.b=3;a-b=4;a_b=5;ab=6',
  'm;b=1;a=2',
  'm;k=v;k=w',
  'm;name=other;k=v',
  '~m;k=v',
  'm;z=1;Z=2;é=3;e=4',
  'm;\u{1F600}=1;\uE000=2;\uFFFD=3',
  'm;k\u{1F600}=1;k\uFFFD=2',
  'm;k=\u{1F600};k2=\uFFFD',
];

test("normalizeSeriesName gives carbon's TaggedSeries path for tagged names", (t) => {
  if (!requirePeer(t, hasPythonModule('carbon.util'), 'graphite-carbon')) return;
  const py = `
import json, sys
from carbon.util import TaggedSeries
print(json.dumps([TaggedSeries.parse(n).path for n in json.load(sys.stdin)]))
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', py], { input: JSON.stringify(CASES), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const carbon = JSON.parse(r.stdout) as string[];
  CASES.forEach((raw, i) => {
    const ours = normalizeSeriesName(raw);
    assert.ok(!isBadName(ours), `${raw}: ${JSON.stringify(ours)}`);
    assert.equal(ours, carbon[i], raw);
  });
});

test('codePointCompare orders as Python compares strings', () => {
  const words = ['a', 'b', 'ab', '', '\uE000', '\u{1F600}', '\uFFFD', 'z\u{10000}', 'z\uFFFF', '=', '2', '-'];
  const sorted = [...words].sort(codePointCompare);
  const byCodePoints = [...words].sort((x, y) => {
    const a = [...x].map((c) => c.codePointAt(0)!);
    const b = [...y].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  assert.deepEqual(sorted, byCodePoints);
  assert.ok(codePointCompare('\u{1F600}', '\uE000') > 0);
  assert.ok('\u{1F600}' < '\uE000'); // what a plain sort would do
});
