import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakingMarker, DirectoryInUse, LOCK_FILE, LockUnavailable, lockDirectory } from './dir-lock.js';
import { requireHere } from '../../../test/helpers/peers.js';

/** the pid of a process that has exited: a lock or marker holding it is stale */
function goneProcess(): string {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
}

// Four takers rather than two: the race this guards against needs a third taker to slip in while
// a second one moves the first one's fresh lock aside and gives it back (two winners in ~3 % of
// rounds with that scheme, so 200 rounds all but always catch it).
test('dir lock: of four takers of a stale lock exactly one wins, every time', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  try {
    const gone = goneProcess();
    for (let round = 0; round < 200; round++) {
      await writeFile(join(dir, LOCK_FILE), `${gone} - -\n`);
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => lockDirectory(dir)));
      const won = results.filter((r): r is PromiseFulfilledResult<() => Promise<void>> => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${results.map((r) => (r.status === 'fulfilled' ? 'won' : String(r.reason))).join(' | ')}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof DirectoryInUse, String(r.reason));
      assert.match(await readFile(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
      await won[0]!.value();
      // nothing left behind (own files, markers) but what the next round writes
      assert.deepEqual(await readdir(dir), []);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dir lock: a marker left by a taker that died while removing a stale lock does not block the next one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  try {
    const lock = join(dir, LOCK_FILE);
    const stale = `${goneProcess()} - -\n`;
    await writeFile(lock, stale);
    await writeFile(breakingMarker(lock, stale), `${goneProcess()} - - 0badc0de\n`);
    const release = await lockDirectory(dir, { takeOverMs: 2000 });
    assert.match(await readFile(lock, 'utf8'), new RegExp(`^${process.pid} `));
    await release();
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dir lock: the marker of a live taker is waited for: taken once it is gone, named in the error if it stays', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  try {
    const lock = join(dir, LOCK_FILE);
    const stale = `${goneProcess()} - -\n`;
    const marker = breakingMarker(lock, stale);
    // held by this (live) process, as by another taker at work on the same stale lock
    await writeFile(lock, stale);
    await writeFile(marker, `${process.pid} - - 0000beef\n`);
    await assert.rejects(lockDirectory(dir, { takeOverMs: 300 }), (err: Error) => err instanceof DirectoryInUse && err.message.includes(marker));
    assert.equal(await readFile(lock, 'utf8'), stale, 'the stale lock was removed without its marker');
    // the other taker finishes (here: gives up) while this one waits
    setTimeout(() => void unlink(marker), 200);
    const release = await lockDirectory(dir, { takeOverMs: 5000 });
    assert.match(await readFile(lock, 'utf8'), new RegExp(`^${process.pid} `));
    await release();
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dir lock: what takers that died mid-take left beside the lock is removed once the lock is held', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  try {
    const lock = join(dir, LOCK_FILE);
    const gone = goneProcess();
    const left = [`${LOCK_FILE}.${gone}.deadbeef`, `${LOCK_FILE}.stale.${gone}.0badf00d`, `${LOCK_FILE}.breaking.0123456789abcdef.stale.${gone}.12345678`];
    for (const name of left) await writeFile(join(dir, name), `${gone} - - 00000000\n`);
    // a marker of a lock long gone, whose taker died
    await writeFile(breakingMarker(lock, 'some earlier lock\n'), `${gone} - - 00000001\n`);
    // a live process's files stay: it may be at work on them
    const live = [`${LOCK_FILE}.${process.pid}.cafebabe`, `${LOCK_FILE}.breaking.fedcba9876543210`];
    for (const name of live) await writeFile(join(dir, name), `${process.pid} - - 00000002\n`);
    const release = await lockDirectory(dir);
    assert.deepEqual((await readdir(dir)).sort(), [LOCK_FILE, ...live].sort());
    await release();
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

test('dir lock: a holder killed but not yet reaped (a zombie) holds nothing: a restart right after kill -9 takes the lock', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  // a parent that does not reap its child: the child stays a zombie while the parent sleeps
  const { spawn } = await import('node:child_process');
  const parent = spawn('python3', ['-c', 'import os, sys, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)\n']);
  t.after(async () => {
    parent.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const zombie = await new Promise<number>((resolve) => {
    parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    parent.once('error', () => resolve(NaN));
  });
  if (!requireHere(t, !Number.isNaN(zombie), 'python3, to leave a child unreaped')) return;
  let stat = '';
  for (let i = 0; i < 100 && !/\) Z /.test(stat); i++) {
    stat = await readFile(`/proc/${zombie}/stat`, 'utf8');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.match(stat, /\) Z /, 'the child is a zombie');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  // the lock as the killed carbonado left it: its pid, boot and start time
  await writeFile(join(dir, LOCK_FILE), `${zombie} ${boot} ${start} deadbeef data -\n`);
  const release = await lockDirectory(dir);
  assert.match(await readFile(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
  await release();
});

test('dir lock: a data directory on a read-only filesystem is named as not writable, not as a temporary file\'s errno', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-lock-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]).status === 0;
  t.after(async () => {
    if (mounted) spawnSync('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });
  if (!requireHere(t, mounted, 'root, to mount a read-only tmpfs')) return;
  await assert.rejects(lockDirectory(dir), (err: Error) => {
    assert.equal(err.message.split(':')[0], `${dir} is not writable by this process (EROFS`);
    assert.match(err.message, /read-only filesystem\): carbonado writes its lock, files and write-ahead log there/);
    return true;
  });
});
