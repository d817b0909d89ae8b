import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, startInProcess, portOf, waitFor } from '../../../test/helpers/carbonado.js';
import { requireHere } from '../../../test/helpers/peers.js';
import { pointBatch } from '../../../core/index.js';
import type { WhisperStore } from './whisper-store.js';
import { mountsUnder, syncFilesystem } from './data-sync.js';

/** A directory holding a fake `sync` (a shell script), to put first on PATH. */
async function fakeSync(body: string): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'carbonado-fake-sync-'));
  await writeFile(join(bin, 'sync'), `#!/bin/sh\n${body}\n`);
  await chmod(join(bin, 'sync'), 0o755);
  return bin;
}

async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

test('syncFilesystem: syncfs through sync -f; plain sync where -f is unknown; failed and missing told apart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-data-sync-'));
  assert.equal((await syncFilesystem([dir])).result, 'synced');

  const noF = await fakeSync('[ "$1" = "-f" ] && { echo "sync: invalid option -- \'f\'" >&2; exit 1; }\nexit 0');
  assert.equal((await withPath(noF, () => syncFilesystem([dir]))).result, 'synced');

  const broken = await fakeSync('echo "sync: error syncing: Input/output error" >&2\nexit 1');
  const failed = await withPath(broken, () => syncFilesystem([dir]));
  assert.equal(failed.result, 'failed');
  assert.match((failed as { message: string }).message, /Input\/output error/);

  // every filesystem of the tree in one call
  const other = await mkdtemp(join(tmpdir(), 'carbonado-data-sync-other-'));
  const argsFile = join(other, 'args');
  const recording = await fakeSync(`echo "$@" > '${argsFile}'`);
  assert.equal((await withPath(recording, () => syncFilesystem([dir, other]))).result, 'synced');
  assert.equal((await readFile(argsFile, 'utf8')).trim(), `-f ${dir} ${other}`);

  const empty = await mkdtemp(join(tmpdir(), 'carbonado-no-sync-'));
  assert.equal((await withPath(empty, () => syncFilesystem([dir]))).result, 'unavailable');
});

async function walSegments(dir: string): Promise<number> {
  return (await readdir(join(dir, '.carbonado-wal'))).filter((f) => f.endsWith('.wal')).length;
}

async function storeStats(httpUrl: string): Promise<{ counters: Record<string, number>; errors: Record<string, number> }> {
  const st = (await (await fetch(`${httpUrl}/stats`)).json()) as { instances: Record<string, { counters: Record<string, number>; errors: Record<string, number> }> };
  return st.instances['stores.main']!;
}

test('WAL segments are deleted only after the data directory is synced; a failing sync keeps them', async () => {
  const broken = await fakeSync('echo "sync: error syncing: Input/output error" >&2\nexit 1');
  for (const syncWorks of [true, false]) {
    const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-sync-'));
    const proc = await spawnCarbonado(
      {
        inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
        stores: { main: { type: 'whisper', dataDir: dir, walSegmentSecs: 1, writeCoalesceMs: 0 } },
      },
      syncWorks ? {} : { env: { PATH: `${broken}:${process.env.PATH}` } },
    );
    try {
      const port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
      const now = Math.floor(Date.now() / 1000);
      const { connect } = await import('node:net');
      const sock = connect(port, '127.0.0.1');
      sock.end(`sync.test.a 1 ${now - 20}\nsync.test.b 2 ${now - 20}\n`);
      // three rotations: every segment but the current one could go once the points are written
      await new Promise((r) => setTimeout(r, 3500));
      const st = await storeStats(proc.httpUrl);
      if (syncWorks) {
        await waitFor(async () => (await walSegments(dir)) <= 2, 'persisted WAL segments deleted', 5000);
        assert.ok((st.counters.data_syncs ?? 0) >= 1, 'syncs counted');
        assert.equal(st.errors.data_sync ?? 0, 0);
      } else {
        assert.ok((await walSegments(dir)) >= 3, 'segments kept while the data cannot be synced');
        assert.ok((st.errors.data_sync ?? 0) >= 1, 'failed syncs counted');
        assert.match(proc.output(), /syncing the data directory failed/);
      }
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
    }
    if (!syncWorks) {
      // stopped cleanly but unsynced: the WAL stays for the next start
      assert.ok((await walSegments(dir)) >= 1);
      assert.match(proc.output(), /WAL is kept/);
    }
  }
});

test('mountsUnder: mount points strictly below the roots, octal escapes decoded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-mountinfo-'));
  const file = join(dir, 'mountinfo');
  await writeFile(
    file,
    [
      '22 27 0:21 / /proc rw,relatime - proc proc rw',
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '90 27 0:50 / /srv/whisper rw - tmpfs tmpfs rw',
      '91 90 0:51 / /srv/whisper/disk\\0402 rw - tmpfs tmpfs rw',
      '92 27 0:52 / /srv/whisperx rw - tmpfs tmpfs rw',
      '93 27 0:53 / /mnt/disk3/sub rw - tmpfs tmpfs rw',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await mountsUnder(['/srv/whisper', '/mnt/disk3'], file), ['/srv/whisper/disk 2', '/mnt/disk3/sub']);
  assert.deepEqual(await mountsUnder([], file), []);
  assert.deepEqual(await mountsUnder(['/srv/whisper'], join(dir, 'missing')), []);
});

test('a filesystem mounted inside the data directory while running is synced from then on', async (t) => {
  if (!requireHere(t, process.platform === 'linux' && process.getuid?.() === 0, 'root, to mount a tmpfs')) return;
  const dataDir = await mkdtemp(join(tmpdir(), 'carbonado-late-mount-'));
  const late = join(dataDir, 'late');
  const c = await startInProcess({ stores: { main: { type: 'whisper', dataDir, walSegmentSecs: 1, schemas: [{ name: 't', pattern: '.*', retentions: '10s:1h' }] } } });
  let mounted = false;
  try {
    const gauges = () => c.stats().instances['stores.main']!.gauges;
    assert.equal(gauges().sync_roots, 1);
    await mkdir(late);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', late], { encoding: 'utf8' });
    if (!requireHere(t, r.status === 0, `mount permission (root with CAP_SYS_ADMIN): ${r.stderr.trim()}`)) return;
    mounted = true;
    const store = c.runtime.instance<WhisperStore>('stores.main')!;
    store.write(pointBatch([['late.cpu', 1, Math.floor(Date.now() / 1000) - 10]]));
    // the next WAL rotation that deletes a segment syncs the new filesystem too
    await waitFor(() => gauges().sync_roots === 2, 'the late mount among the sync roots', 10_000, 100);

    // unmounted (lazily: the store keeps the file open) and its directory removed: later syncs
    // drop it instead of failing on it
    assert.equal(spawnSync('umount', ['-l', late]).status, 0);
    mounted = false;
    await rm(late, { recursive: true, force: true });
    const own = () => c.stats().instances['stores.main']!;
    const syncs = own().counters.data_syncs ?? 0;
    store.write(pointBatch([['other.cpu', 1, Math.floor(Date.now() / 1000) - 10]]));
    await waitFor(() => (own().counters.data_syncs ?? 0) > syncs, 'a sync after the unmount', 10_000, 100);
    // a sync that read the mount table just before the unmount may have failed on it; syncs are
    // one at a time (only the WAL's 'segment' job syncs while running), so every sync from here
    // on started after the unmount and must succeed
    const errors = own().errors.data_sync ?? 0;
    const later = own().counters.data_syncs ?? 0;
    store.write(pointBatch([['third.cpu', 1, Math.floor(Date.now() / 1000) - 10]]));
    await waitFor(() => (own().counters.data_syncs ?? 0) > later, 'one more sync', 10_000, 100);
    assert.equal(own().errors.data_sync ?? 0, errors);
    assert.equal(gauges().sync_roots, 1);
  } finally {
    await c.stop();
    if (mounted) spawnSync('umount', [late]);
    await rm(dataDir, { recursive: true, force: true });
  }
});
