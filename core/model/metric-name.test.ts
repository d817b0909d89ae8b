// Tagged names are canonicalised exactly as carbon does (carbon/util.py TaggedSeries): the same
// string means the same sha256, so a store names the same file as carbon-cache and graphite-web do.
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
  // OpenMetrics style, as carbon's parse_openmetrics reads it
  'm{a="1",b="2"}',
  'm{dc2="2",dc="1"}',
  'm{a="x\\"y"}',
  'm{a="x\\\\y"}',
  'm{a="1":,b="2"}',
  'm{a="1",}',
  'm{name="other",k="v"}',
  // not OpenMetrics: no `{`
  'plain.x"}',
];

/** carbon raises on these (and stores the raw name as a path); carbonado refuses them */
const REFUSED = ['m{a="x\\ny"}', 'm{a=""}', 'm{{a="1"}', 'm{a="{x}"}', 'm{a="1" ,b="2"}', 'm;a', 'm;=v', 'm;k=~v', 'm;k!=v', 'm{a="1"};k=v"}'];

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
  const py2 = `
import json, sys
from carbon.util import TaggedSeries
out = []
for n in json.load(sys.stdin):
    try:
        TaggedSeries.parse(n)
        out.append(True)
    except Exception:
        out.append(False)
print(json.dumps(out))
`;
  const r2 = spawnSync(DEBIAN_PYTHON, ['-c', py2], { input: JSON.stringify(REFUSED), encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(JSON.parse(r2.stdout), REFUSED.map(() => false), 'carbon refuses every one');
  for (const raw of REFUSED) assert.ok(isBadName(normalizeSeriesName(raw)), raw);
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

test('a tagged name is held to 1024 characters with its tags, as a plain name is', () => {
  const ok = `m;k=${'v'.repeat(1024 - 4)}`;
  assert.equal(normalizeSeriesName(ok), ok);
  const long = normalizeSeriesName(`m;k=${'v'.repeat(1024 - 3)}`);
  assert.ok(isBadName(long) && long.bad === 'name_too_long', JSON.stringify(long));
  const om = normalizeSeriesName(`m{k="${'v'.repeat(70_000)}"}`);
  assert.ok(isBadName(om) && om.bad === 'name_too_long');
});
