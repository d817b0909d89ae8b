// seriesByTag regex terms are Python regexes anchored as graphite-web anchors them (`^(spec)`);
// each answer is compared with Python's re on the same spec and value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compileTagTerm, parseTagTerm, TagExpressionError } from './tag-expression.js';
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
  // alternation after ^: searched (SQL REGEXP) or matched at the start (Python), see below
  ['^s|u', 'eu'],
  ['^s|u', 'us'],
  ['^$|u', 'eu'],
  ['^x|u', 'eu'],
];

test('regex tag terms match as graphite-web matches them with Python re', (t) => {
  if (!requirePeer(t, existsSync(DEBIAN_PYTHON), 'python3')) return;
  // graphite-web's local tag database: a term that matches the empty string is filtered in Python
  // with re.match, the others in SQL with Django's REGEXP, which is re.search
  const py = `
import json, re, sys
out = []
for spec, value in json.load(sys.stdin):
    if not spec.startswith('^'):
        spec = '^(' + spec + ')'
    empty = bool(re.match(spec, ''))
    eq = bool((re.match if empty else re.search)(spec, value))
    ne = not bool((re.match if not empty else re.search)(spec, value))
    out.append([eq, ne])
print(json.dumps(out))
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', py], { input: JSON.stringify(CASES), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const python = JSON.parse(r.stdout) as Array<[boolean, boolean]>;
  CASES.forEach(([spec, value], i) => {
    assert.equal(compileTagTerm({ tag: 't', op: '=~', value: spec }).matches(value), python[i]![0], `${spec} =~ ${JSON.stringify(value)}`);
    assert.equal(compileTagTerm({ tag: 't', op: '!=~', value: spec }).matches(value), python[i]![1], `${spec} !=~ ${JSON.stringify(value)}`);
  });
});

test('a tag regex JavaScript would read differently is refused, not run with another meaning', () => {
  for (const spec of ['(?i)cpu', 'a(?i)b', '\\N{BULLET}']) {
    assert.throws(() => compileTagTerm({ tag: 't', op: '=~', value: spec }), TagExpressionError, spec);
  }
});

test('a tag name keeps its spaces, as in graphite-web', () => {
  assert.equal(parseTagTerm(' dc=eu').tag, ' dc');
});
