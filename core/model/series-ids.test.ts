import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesIds } from './series-ids.js';

test('ids are dense, stable, and never handed to a second name once the registry is full', () => {
  const ids = new SeriesIds(3);
  assert.deepEqual(['a', 'b', 'a', 'c'].map((n) => ids.idOf(n)), [0, 1, 0, 2]);
  assert.equal(ids.idOf('d'), -1, 'full: a new name gets no id');
  assert.equal(ids.idOf('b'), 1, 'known names keep theirs');
  assert.equal(ids.nameOf(2), 'c');
  assert.equal(ids.nameOf(3), undefined);
  assert.equal(ids.size, 3);
});
