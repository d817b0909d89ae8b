import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryInUse, LOCK_FILE, LockUnavailable, lockDirectory } from './dir-lock.js';
import { requireHere } from '../../../test/helpers/peers.js';

test('dir lock: of two takers of a stale lock exactly one wins, every time', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  try {
    // the pid of a process that has exited: its lock is stale
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    for (let round = 0; round < 100; round++) {
      await writeFile(join(dir, LOCK_FILE), `${gone} - -\n`);
      const results = await Promise.allSettled([lockDirectory(dir), lockDirectory(dir)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(',')}`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof DirectoryInUse, String(lost.reason));
      assert.match(await readFile(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
      await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
      // nothing left behind but what the next round writes
      assert.deepEqual(await readdir(dir), []);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dir lock: a held lock is refused with its pid; released, it can be taken again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  try {
    const release = await lockDirectory(dir);
    await assert.rejects(lockDirectory(dir), (err: Error) => err instanceof DirectoryInUse && err.message.includes(`process ${process.pid}`));
    await release();
    await (await lockDirectory(dir))();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dir lock: a full disk gives LockUnavailable (the store starts without the lock), not a failed start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
  if (!mounted) await rm(dir, { recursive: true, force: true });
  if (!requireHere(t, mounted, 'root, to mount a small tmpfs')) return;
  try {
    // fill it up: a real ENOSPC
    spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    await assert.rejects(lockDirectory(dir), LockUnavailable);
  } finally {
    spawnSync('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  }
});
