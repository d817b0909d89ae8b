// A data directory on a filesystem without hard links (exFAT through FUSE here; vfat, some SMB and
// FUSE mounts alike): new files cannot be linked from the staging directory, nor the lock linked
// into place. carbon-cache works there, so the store must too: files made next to their place and
// renamed, the lock an exclusive create, a stale one taken over after kill -9, the WAL replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, portOf, waitFor, type Spawned } from '../../../test/helpers/carbonado.js';
import { fetchWhisper, readHeader } from '../../shared/whisper-format/index.js';
import { hasCommand, requireHere } from '../../../test/helpers/peers.js';
import { LOCK_FILE } from './dir-lock.js';

const SERIES = 200;

interface Mounted {
  dir: string;
  unmount(): void;
}

/** An exFAT image on a loop device, mounted with exfat-fuse; undefined when this machine cannot. */
function mountExfat(root: string): Mounted | undefined {
  if (!hasCommand('mkfs.exfat') || !hasCommand('mount.exfat-fuse') || !hasCommand('losetup') || !existsSync('/dev/fuse')) return undefined;
  const image = join(root, 'exfat.img');
  const dir = join(root, 'mnt');
  let device: string | undefined;
  try {
    execFileSync('truncate', ['-s', '64M', image]);
    execFileSync('mkfs.exfat', [image], { stdio: 'ignore' });
    device = execFileSync('losetup', ['-f', '--show', image]).toString().trim();
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('mount.exfat-fuse', [device, dir], { stdio: 'ignore' });
  } catch {
    if (device) spawnSync('losetup', ['-d', device]);
    return undefined;
  }
  const dev = device;
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      spawnSync('losetup', ['-d', dev]);
    },
  };
}

function send(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

type StoreStats = { received: number; errorsTotal: number; errors: Record<string, number>; counters: Record<string, number>; gauges: Record<string, number> };
async function storeStats(p: Spawned): Promise<StoreStats> {
  return ((await (await fetch(`${p.httpUrl}/stats`)).json()) as { instances: Record<string, StoreStats> }).instances['stores.main']!;
}

test('a data directory on a filesystem without hard links (exFAT): files created, lock held and taken over after kill -9, WAL replayed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-whisper-exfat-'));
  const fs = mountExfat(root);
  if (!fs) await rm(root, { recursive: true, force: true });
  if (!requireHere(t, fs !== undefined, 'root, a loop device, /dev/fuse and the Debian packages exfatprogs and exfat-fuse, to mount an exFAT image')) return;
  const dataDir = join(fs!.dir, 'data');
  await mkdir(dataDir);
  // a hard link there must fail, or this test proves nothing
  await (await open(join(fs!.dir, 'probe'), 'w')).close();
  assert.throws(() => execFileSync('ln', [join(fs!.dir, 'probe'), join(fs!.dir, 'probe2')], { stdio: 'ignore' }));
  const config = {
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir, schemas: [{ name: 't', pattern: '.*', retentions: '1s:2h' }] } },
    outputs: { render: { type: 'graphite_render' } },
  };
  const base = Math.floor(Date.now() / 1000) - 300;
  const lines = (p: number) => Array.from({ length: SERIES }, (_, s) => `nolink.s${s} ${s * 10 + p} ${base + p}\n`).join('');
  try {
    // first run: files created, then killed with points only in the cache and the WAL
    let proc = await spawnCarbonado(config);
    try {
      const lock = await readFile(join(dataDir, LOCK_FILE), 'utf8');
      assert.match(lock, new RegExp(`^${proc.pid} `), 'the lock, by exclusive create');
      const port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
      await send(port, lines(0));
      await waitFor(async () => (await storeStats(proc)).counters.creates === SERIES, 'every series created', 20_000, 100);
      const res = await fetch(`${proc.httpUrl}/render?target=nolink.s3&from=${base - 1}&until=${base + 5}&format=json`);
      assert.deepEqual(((await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>)[0]!.datapoints.filter(([v]) => v !== null), [[30, base]]);
      // the store writes a file at most once a second: points 1 and 2 sit in the cache and the WAL
      await send(port, lines(1) + lines(2));
      await waitFor(async () => (await storeStats(proc)).received === SERIES * 3, 'every point accepted', 10_000, 50);
      await new Promise((r) => setTimeout(r, 400)); // past the WAL's 200 ms flush
      assert.equal((await storeStats(proc)).errorsTotal, 0, JSON.stringify((await storeStats(proc)).errors));
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
    assert.ok(existsSync(join(dataDir, LOCK_FILE)), 'kill -9 leaves the lock');

    // second run: the stale lock is taken over, the WAL replayed, one more point, SIGTERM
    proc = await spawnCarbonado(config);
    try {
      assert.match(await readFile(join(dataDir, LOCK_FILE), 'utf8'), new RegExp(`^${proc.pid} `), 'the stale lock taken over');
      await send(portOf(proc.listening('inputs.carbon'), 'tcp').port, lines(3));
      await waitFor(async () => (await storeStats(proc)).received >= SERIES, 'the new points accepted', 10_000, 50);
      assert.equal((await storeStats(proc)).errorsTotal, 0, JSON.stringify((await storeStats(proc)).errors));
    } finally {
      proc.kill('SIGTERM');
      assert.equal(await proc.exited, 0, proc.output().slice(-2000));
    }
    assert.ok(!existsSync(join(dataDir, LOCK_FILE)), 'SIGTERM releases the lock');

    const now = Math.floor(Date.now() / 1000);
    let complete = 0;
    for (let s = 0; s < SERIES; s++) {
      const f = join(dataDir, 'nolink', `s${s}.wsp`);
      const fh = await open(f, 'r');
      try {
        const r = (await fetchWhisper(fh, await readHeader(fh, f), base - 1, base + 3, now))!;
        if ([...r.values].every((v, p) => v === s * 10 + p)) complete++;
      } finally {
        await fh.close();
      }
    }
    assert.equal(complete, SERIES, 'series with all four points in their file');
  } finally {
    fs!.unmount();
    await rm(root, { recursive: true, force: true });
  }
});
