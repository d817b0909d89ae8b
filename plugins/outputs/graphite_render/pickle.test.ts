// The encoder is checked by decoding its output with Debian's Python pickle (when present), and
// against fixed byte strings that pin the protocol-2 opcodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { encodePickle, PickleTuple, PickleFloat, valuesForPickle, type PickleValue } from './pickle.js';

test('fixed encodings', () => {
  assert.equal(encodePickle([]).toString('hex'), '80025d2e');
  assert.equal(encodePickle({ a: 1 }).toString('hex'), '80027d28580100000061' + '4b01' + '752e');
  assert.equal(encodePickle(new PickleTuple([1, 2])).toString('hex'), '80024b014b02862e');
  assert.equal(encodePickle(null).toString('hex'), '80024e2e');
  assert.equal(encodePickle(1.5).toString('hex'), '800247' + '3ff8000000000000' + '2e');
});

const python = '/usr/bin/python3';

test('Python decodes what we encode', { skip: !existsSync(python) }, () => {
  const value: PickleValue = [
    { name: 'a.b', start: 1700000000, end: 1700000600, step: 60, values: [new PickleFloat(1), null, new PickleFloat(-2.5), new PickleFloat(Infinity), new PickleFloat(NaN)] },
    { path: 'x.y', is_leaf: true, intervals: [new PickleTuple([0, 1700000000])] },
    { big: 2 ** 40, neg: -70000, small: -1, t3: new PickleTuple([1, 'é', false]), t4: new PickleTuple([1, 2, 3, 4]), e: new PickleTuple([]) },
    Array.from({ length: 2500 }, (_, i) => i),
  ];
  const bytes = encodePickle(value);
  const script = [
    'import sys, pickle, json, math',
    'v = pickle.loads(sys.stdin.buffer.read())',
    'def fix(x):',
    '  if isinstance(x, float) and math.isnan(x): return "nan"',
    '  if isinstance(x, float) and math.isinf(x): return "inf"',
    '  if isinstance(x, tuple): return {"tuple": [fix(i) for i in x]}',
    '  if isinstance(x, list): return [fix(i) for i in x]',
    '  if isinstance(x, dict): return {k: fix(i) for k, i in x.items()}',
    '  if isinstance(x, float): return {"float": x}',
    '  return x',
    'print(json.dumps(fix(v)))',
  ].join('\n');
  const out = JSON.parse(execFileSync(python, ['-c', script], { input: bytes }).toString());
  assert.deepEqual(out[0], { name: 'a.b', start: 1700000000, end: 1700000600, step: 60, values: [{ float: 1 }, null, { float: -2.5 }, 'inf', 'nan'] });
  assert.deepEqual(out[1], { path: 'x.y', is_leaf: true, intervals: [{ tuple: [0, 1700000000] }] });
  assert.deepEqual(out[2], { big: 2 ** 40, neg: -70000, small: -1, t3: { tuple: [1, 'é', false] }, t4: { tuple: [1, 2, 3, 4] }, e: { tuple: [] } });
  assert.equal(out[3].length, 2500);
  assert.equal(out[3][2499], 2499);
});

test('valuesForPickle maps NaN to None and keeps floats', () => {
  const v = valuesForPickle(new Float64Array([1, NaN]));
  assert.ok(v[0] instanceof PickleFloat);
  assert.equal(v[1], null);
});
