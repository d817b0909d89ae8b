import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PythonRegexError, translatePythonRegex } from './python-regex.js';
import { DEBIAN_PYTHON, requirePeer } from '../../test/helpers/peers.js';
import { existsSync } from 'node:fs';

const search = (pattern: string, s: string): boolean => {
  const { source, flags } = translatePythonRegex(pattern);
  return new RegExp(source, flags).test(s);
};

// [pattern, subject]: each answer is compared with Python's re.search on the same pair
const CASES: Array<[string, string]> = [
  ['(?i)^servers\\.', 'SERVERS.web1'],
  ['(?i)^servers\\.', 'db.servers.x'],
  ['(?x) ^servers \\. # the servers\n  web\\d+', 'servers.web12'],
  ['(?x) ^a [ ] b', 'a b'],
  ['(?x)^[] ]a # a class holding ] and a space', ' a'],
  ['(?s)a.b', 'a\nb'],
  ['(?ai)^A', 'a.b'],
  ['^servers\\.(?#hosts)web', 'servers.web1'],
  ['^a\\.{,2}b$', 'a..b'],
  ['^a\\.{,2}b$', 'a...b'],
  ['^a{,}$', 'aaa'],
  ['^(?P<host>web\\d)\\.(?P=host)$', 'web1.web1'],
  ['\\Aa\\.b\\Z', 'a.b'],
  ['[]a]x', ']x'],
  ['^stats\\.timers\\..*\\.upper(_\\d+)?$', 'stats.timers.api.upper_90'],
  ['\\.count$', 'stats.x.count'],
  // Python's classes cover every script; `.` is one character, even beyond U+FFFF
  ['^\\w+$', 'café'],
  ['^\\w+$', '東京'],
  ['(?a)^\\w+$', 'café'],
  ['^\\d+$', '٣٤'],
  ['\\W', 'é'],
  ['\\bé', 'x é'],
  ['\\Bb', 'ab'],
  ['^.$', '🚀'],
  ['^[\\w-]+$', 'jupyter-josé_2'],
  // escapes and literals JavaScript's u mode is strict about
  ['a\\:b', 'a:b'],
  ['\\#x\\ y\\-z', '#x y-z'],
  ['a{b', 'a{b'],
  ['a}b', 'a}b'],
  ['a]b', 'a]b'],
  ['a{2}', 'aa'],
  ['a{1,2}b', 'aab'],
  ['\\012', '\n'],
  ['[\\1]', '\x01'],
  ['(a)\\1', 'aa'],
  ['\\u00e9', 'é'],
  ['\\U0001F680', '🚀'],
  ['\\x41', 'A'],
  ['[\\]\\-]', '-'],
  ['\\a', '\x07'],
  ['[\\W_]+', 'a.b'],
  ['^[^\\W\\d_]+', 'servers.web1'],
  ['^.*$', 'cr\rhere'],
  ['(^.*$)', 'line\u2028sep'],
];

test('translated Python patterns match what Python matches', (t) => {
  if (!requirePeer(t, existsSync(DEBIAN_PYTHON), 'python3')) return;
  const script = 'import re, json, sys\nprint(json.dumps([bool(re.search(p, s)) for p, s in json.load(sys.stdin)]))';
  const r = spawnSync(DEBIAN_PYTHON, ['-c', script], { input: JSON.stringify(CASES), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as boolean[];
  CASES.forEach(([p, s], i) => assert.equal(search(p, s), want[i], `${JSON.stringify(p)} on ${JSON.stringify(s)}`));
});

test('what JavaScript would read with another meaning is refused, with the reason', () => {
  assert.throws(() => translatePythonRegex('^\\N{LATIN SMALL LETTER A}'), PythonRegexError);
  assert.throws(() => translatePythonRegex('^(?i:servers)\\.'), /only supported at the start/);
  assert.throws(() => translatePythonRegex('^a(?i)b'), /only supported at the start/);
  assert.throws(() => translatePythonRegex('(a)?(?(1)b|c)'), /conditional/);
  assert.throws(() => translatePythonRegex('a\\'), /backslash/);
  assert.throws(() => translatePythonRegex('\\q'), /bad escape/); // Python refuses it too
});
