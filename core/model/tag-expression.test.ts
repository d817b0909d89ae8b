// seriesByTag regex terms are Python regexes anchored as graphite-web anchors them (`^(spec)`);
// each answer is compared with Python's re on the same spec and value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compileTagTerm, TagExpressionError } from './tag-expression.js';
import { DEBIAN_PYTHON, requirePeer } from '../../test/helpers/peers.js';
import { existsSync } from 'node:fs';

const CASES: Array<[string, string]> = [
  ['web|db', 'db1'],
  ['web|db', 'xdb'],
  ['^web', 'web1'],
  ['a{,2}b', 'aab'],
  ['a{,2}b', 'a{,2}b'],
  ['(a)\\2', 'aa'],
  ['(?P<x>a)(?P=x)', 'aa'],
  ['(?P<x>a)(?P=x)', 'ab'],
  ['prod-\\d+', 'prod-12'],
  ['eu\\Z', 'eu'],
  ['eu\\Z', 'eu1'],
  ['[]a]+', ']a]'],
  ['', 'x'],
  ['.*', ''],
  ['x?', ''],
];

test('regex tag terms match as graphite-web matches them with Python re', (t) => {
  if (!requirePeer(t, existsSync(DEBIAN_PYTHON), 'python3')) return;
  const py = `
import json, re, sys
out = []
for spec, value in json.load(sys.stdin):
    if not spec.startswith('^'):
        spec = '^(' + spec + ')'
    out.append(bool(re.match(spec, value)))
print(json.dumps(out))
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', py], { input: JSON.stringify(CASES), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const python = JSON.parse(r.stdout) as boolean[];
  CASES.forEach(([spec, value], i) => {
    const term = compileTagTerm({ tag: 't', op: '=~', value: spec });
    assert.equal(term.matches(value), python[i], `${spec} ~ ${JSON.stringify(value)}`);
    assert.equal(compileTagTerm({ tag: 't', op: '!=~', value: spec }).matches(value), !python[i], `${spec} !~ ${JSON.stringify(value)}`);
  });
});

test('a tag regex JavaScript would read differently is refused, not run with another meaning', () => {
  for (const spec of ['(?i)cpu', 'a(?i)b', '\\N{BULLET}']) {
    assert.throws(() => compileTagTerm({ tag: 't', op: '=~', value: spec }), TagExpressionError, spec);
  }
});
