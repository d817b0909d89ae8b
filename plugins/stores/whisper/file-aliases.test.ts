import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileAliases } from './file-aliases.js';

test('names of one file get one key; other names keep their own', () => {
  const a = new FileAliases('/data/whisper');
  assert.equal(a.any, false);
  assert.equal(a.keyOf('x.y'), 'x.y');

  a.addDirectoryLink('alias.', '/data/whisper/real'); // inside the tree
  a.addDirectoryLink('disk2.', '/mnt/disk2/whisper'); // another disk
  a.addDirectoryLink('disk2b.', '/mnt/disk2/whisper'); // the same disk, linked twice
  a.addDirectoryLink('alias.deeper.', '/mnt/disk3'); // a link inside a linked directory
  a.addDirectoryLink('real.deeper.', '/mnt/disk3');
  a.addFileLink('linked', '/data/whisper/real/s0.wsp');
  assert.equal(a.links, 6);

  assert.equal(a.keyOf('alias.s1'), a.keyOf('real.s1'));
  assert.equal(a.keyOf('real.s1'), 'real.s1');
  assert.equal(a.keyOf('linked'), 'real.s0');
  assert.equal(a.keyOf('disk2.web.cpu'), a.keyOf('disk2b.web.cpu'));
  assert.equal(a.keyOf('disk2.web.cpu'), '\u0000/mnt/disk2/whisper/web/cpu.wsp');
  assert.equal(a.keyOf('alias.deeper.x'), a.keyOf('real.deeper.x'));
  assert.equal(a.keyOf('alias.deeper.x'), '\u0000/mnt/disk3/x.wsp');
  assert.notEqual(a.keyOf('alias.s1'), a.keyOf('alias.s2'));
  assert.equal(a.keyOf('aliasx.s1'), 'aliasx.s1', 'a prefix is a whole node');
});
