import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBadName } from '../../../core/index.js';
import { NameMemo } from './name-memo.js';

test('names are validated, tags normalised, and the memo stays bounded', () => {
  const m = new NameMemo(4);
  assert.equal(m.resolve('a.b'), 'a.b');
  assert.equal(m.resolve('x;zone=b;app=a'), 'x;app=a;zone=b');
  assert.equal(m.resolve('x;zone=b;app=a'), 'x;app=a;zone=b'); // a hit
  const bad = m.resolve('a..b');
  assert.ok(isBadName(bad) && bad.bad === 'node_empty');
  assert.equal(m.size, 2, 'refused names are not kept');
  for (let i = 0; i < 10; i++) m.resolve(`n.${i}`);
  assert.ok(m.size <= 4);
});
