// Two stores whose data directories nest: the outer one's walk would list the inner one's series
// as its own, and a point under such a name would have both writing one file. Whichever starts
// second is refused, naming both directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, realpath, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess, waitFor, type InProcess } from '../../../test/helpers/carbonado.js';
import { existsSync } from 'node:fs';
import { pointBatch } from '../../../core/index.js';
import { LOCK_FILE } from './dir-lock.js';
import type { WhisperStore } from './whisper-store.js';

function start(dataDir: string, extra: Record<string, unknown> = {}): Promise<InProcess> {
  return startInProcess({ stores: { main: { type: 'whisper', dataDir, schemas: [{ name: 't', pattern: '.*', retentions: '10s:1h' }], ...extra } } });
}

async function refusal(dataDir: string): Promise<Error> {
  return start(dataDir).then(
    async (c) => {
      await c.stop();
      throw new Error(`a store on ${dataDir} started`);
    },
    (err: Error) => err,
  );
}

test('a data directory inside a running store\'s, or holding one, is refused whichever starts second; its own WAL directory and a stale lock below are not', async () => {
  const outer = await realpath(await mkdtemp(join(tmpdir(), 'carbonado-whisper-nested-')));
  const inner = join(outer, 'inner');
  await mkdir(inner);
  try {
    // the inner one first: the outer one's walk meets its lock
    const first = await start(inner);
    try {
      const err = await refusal(outer);
      assert.match(err.message, new RegExp(`${inner} is inside ${outer}, and this process \\(${process.pid}\\) holds the lock of ${inner}`));
      // the refused store let go of its own lock, and the inner store still writes
      assert.ok(!(await readdir(outer)).includes(LOCK_FILE));
      const store = first.runtime.instance<WhisperStore>('stores.main')!;
      store.write(pointBatch([['a.b', 1, Math.floor(Date.now() / 1000) - 10]]));
      await store.stop();
      assert.deepEqual(await readdir(join(inner, 'a')), ['b.wsp']);
    } finally {
      await first.stop();
    }

    // the outer one first: the inner one finds its lock above
    const second = await start(outer);
    try {
      const err = await refusal(join(inner, 'deeper'));
      assert.match(err.message, new RegExp(`${join(inner, 'deeper')} is inside ${outer}, and this process \\(${process.pid}\\) holds the lock of ${outer}`));
    } finally {
      await second.stop();
    }

    // a lock below left by a process that is gone, and the store's own WAL directory under a
    // plain name inside its data directory: neither is another store
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(join(inner, LOCK_FILE), `${gone} - - 00000000\n`);
    const third = await start(outer, { walDir: join(outer, 'wal') });
    await third.stop();
  } finally {
    await rm(outer, { recursive: true, force: true });
  }
});

test('nesting that no walk sees is not refused: a dot-named inner directory, another store\'s WAL directory, a copied lock; nesting through a symlink is, whichever starts first and by either name', async () => {
  const outer = await realpath(await mkdtemp(join(tmpdir(), 'carbonado-whisper-nested-')));
  const elsewhere = await realpath(await mkdtemp(join(tmpdir(), 'carbonado-whisper-elsewhere-')));
  // every store started here, so that a failed step does not leave one running
  const running = new Set<InProcess>();
  const up = async (dir: string, extra: Record<string, unknown> = {}): Promise<InProcess> => {
    const c = await start(dir, extra);
    running.add(c);
    return c;
  };
  const down = async (c: InProcess): Promise<void> => {
    running.delete(c);
    await c.stop();
  };
  try {
    // a dot-named directory is skipped by the outer store's walk, whichever starts first
    const hidden = join(outer, '.archive');
    await mkdir(hidden);
    let a = await up(hidden);
    let b = await up(outer);
    await down(b);
    await down(a);
    b = await up(outer);
    a = await up(hidden);
    await down(a);
    await down(b);

    // another store's WAL directory inside the data directory holds no series
    a = await up(elsewhere, { walDir: join(outer, 'wal-of-elsewhere') });
    b = await up(outer);
    await down(b);
    await down(a);

    // a running store's lock copied with its files (cp -a, rsync) is not that store
    a = await up(elsewhere);
    await mkdir(join(outer, 'copy'));
    await copyFile(join(elsewhere, LOCK_FILE), join(outer, 'copy', LOCK_FILE));
    b = await up(outer);
    await down(b);
    // nor does it keep a store from the directory it was copied into
    await down(await up(join(outer, 'copy')));
    await down(a);

    // a directory the outer store reaches through its symlink is refused to a store started
    // second, under the link's name, by its real path, or below it; the lock goes with the store
    await symlink(elsewhere, join(outer, 'linked'));
    b = await up(outer);
    const linkedLock = new RegExp(`${elsewhere} is in use by process ${process.pid}, whose store reaches it through a symlink in its data directory`);
    assert.match((await refusal(join(outer, 'linked'))).message, linkedLock);
    assert.match((await refusal(elsewhere)).message, linkedLock);
    assert.match((await refusal(join(elsewhere, 'sub'))).message, new RegExp(`${join(elsewhere, 'sub')} is inside ${elsewhere}, and ${elsewhere} is reached by this process \\(${process.pid}\\)'s store through a symlink`));
    await down(b);
    assert.ok(!(await readdir(elsewhere)).includes(LOCK_FILE));
    a = await up(elsewhere);
    assert.match((await refusal(outer)).message, new RegExp(`${elsewhere} is inside ${outer} \\(through the symlink ${join(outer, 'linked')}\\), and this process`));
    await down(a);
  } finally {
    for (const c of running) await c.stop().catch(() => undefined);
    await rm(outer, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  }
});

test('a symlink made while the store runs: a SIGHUP rescan leaves out a running store\'s directory, and locks a free one; once unlinked, unlocks it', async () => {
  const outer = await realpath(await mkdtemp(join(tmpdir(), 'carbonado-whisper-nested-')));
  const elsewhere = await realpath(await mkdtemp(join(tmpdir(), 'carbonado-whisper-elsewhere-')));
  const now = Math.floor(Date.now() / 1000) - 10;
  const running = new Set<InProcess>();
  const down = async (c: InProcess): Promise<void> => {
    running.delete(c);
    await c.stop();
  };
  try {
    const inner = await start(elsewhere);
    running.add(inner);
    inner.runtime.instance<WhisperStore>('stores.main')!.write(pointBatch([['web.cpu', 1, now], ['web.mem', 2, now]]));
    await waitFor(() => existsSync(join(elsewhere, 'web', 'mem.wsp')) && existsSync(join(elsewhere, 'web', 'cpu.wsp')), 'the inner store\'s files');
    const c = await start(outer);
    running.add(c);
    const store = c.runtime.instance<WhisperStore>('stores.main')!;
    const rescan = async (n: number): Promise<void> => {
      c.runtime.services.bus.emit('reload'); // what the CLI does on SIGHUP
      await waitFor(() => (c.stats().instances['stores.main']!.counters.rescans ?? 0) === n, 'rescanned');
    };

    // the other store still runs there: its series are not this store's, nor is its lock
    await symlink(elsewhere, join(outer, 'late'));
    await rescan(1);
    assert.deepEqual(await store.find('late.*'), []);
    assert.equal(c.stats().instances['stores.main']!.errors.nested_store, 1);

    // once it has stopped, the next SIGHUP indexes the directory and takes its lock
    await down(inner);
    await rescan(2);
    assert.deepEqual(await store.find('late.web.*'), [
      { path: 'late.web.cpu', isLeaf: true },
      { path: 'late.web.mem', isLeaf: true },
    ]);
    await waitFor(async () => (await readdir(elsewhere)).includes(LOCK_FILE), 'the linked directory locked');
    assert.match((await refusal(elsewhere)).message, new RegExp(`${elsewhere} is in use by process ${process.pid}, whose store reaches it through a symlink`));
    // and a third SIGHUP walks it as its own
    await rescan(3);
    assert.equal(c.stats().instances['stores.main']!.errors.nested_store, 1);
    assert.equal((await store.find('late.web.*')).length, 2);

    // the link removed: the next SIGHUP releases the lock, and a store can start there again;
    // a point for a series that was under the link goes to a new file in the data directory
    await unlink(join(outer, 'late'));
    await rescan(4);
    assert.deepEqual(await store.find('late.*'), []);
    assert.ok(!(await readdir(elsewhere)).includes(LOCK_FILE), 'the lock of the unlinked directory released');
    const again = await start(elsewhere);
    running.add(again);
    assert.equal((await again.runtime.instance<WhisperStore>('stores.main')!.find('web.*')).length, 2);
    store.write(pointBatch([['late.web.cpu', 3, now]]));
    await waitFor(() => existsSync(join(outer, 'late', 'web', 'cpu.wsp')), 'the new file in the data directory');
    assert.ok(!(await lstat(join(outer, 'late'))).isSymbolicLink());
    await down(again);
    await down(c);
    assert.ok(!(await readdir(elsewhere)).includes(LOCK_FILE));
  } finally {
    for (const c of running) await c.stop().catch(() => undefined);
    await rm(outer, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  }
});
