// A data directory on exFAT (through FUSE here), which has two traits of vfat, some SMB and FUSE
// mounts, and macOS's default APFS: no hard links, and names that differ only in case naming one
// file. carbon-cache works there, so the store must too.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rename, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnCarbonado, portOf, waitFor, type Spawned } from '../../../test/helpers/carbonado.js';
import { fetchWhisper, readHeader } from '../../shared/whisper-format/index.js';
import { hasCommand, requireHere } from '../../../test/helpers/peers.js';
import { LOCK_FILE } from './dir-lock.js';
import { sha256Hex } from './paths.js';
import { readableFileName, TAGGED_NAMES_FILE } from './tagged-files.js';

const SERIES = 200;
const TAGGED = 'nolink.tagged;k=v';

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

/** A fresh exFAT mount with an empty `data` directory; undefined when the test was skipped. */
async function exfatDataDir(t: TestContext): Promise<{ mnt: string; dataDir: string; remove(): Promise<void> } | undefined> {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-whisper-exfat-'));
  const fs = mountExfat(root);
  if (!fs) await rm(root, { recursive: true, force: true });
  if (!requireHere(t, fs !== undefined, 'root, a loop device, /dev/fuse and the Debian packages exfatprogs and exfat-fuse, to mount an exFAT image')) return undefined;
  const dataDir = join(fs!.dir, 'data');
  await mkdir(dataDir);
  return {
    mnt: fs!.dir,
    dataDir,
    remove: async () => {
      fs!.unmount();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** the values of the first `n` seconds from `base` in a whisper file, read directly */
async function valuesOnDisk(file: string, base: number, n: number): Promise<Array<number | null>> {
  const fh = await open(file, 'r');
  try {
    const r = (await fetchWhisper(fh, await readHeader(fh, file), base - 1, base + n - 1, Math.floor(Date.now() / 1000)))!;
    return [...r.values].map((v) => (Number.isNaN(v) ? null : v));
  } finally {
    await fh.close();
  }
}

type StoreStats = { received: number; errorsTotal: number; errors: Record<string, number>; counters: Record<string, number>; gauges: Record<string, number> };
async function storeStats(p: Spawned): Promise<StoreStats> {
  return ((await (await fetch(`${p.httpUrl}/stats`)).json()) as { instances: Record<string, StoreStats> }).instances['stores.main']!;
}

test('a data directory on a filesystem without hard links (exFAT): files created, lock held and taken over after kill -9, WAL replayed, a readable-named tagged file moved', async (t) => {
  const fs = await exfatDataDir(t);
  if (!fs) return;
  const dataDir = fs.dataDir;
  // a hard link there must fail, or this test proves nothing
  await (await open(join(fs.mnt, 'probe'), 'w')).close();
  assert.throws(() => execFileSync('ln', [join(fs.mnt, 'probe'), join(fs.mnt, 'probe2')], { stdio: 'ignore' }));
  const config = {
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir, schemas: [{ name: 't', pattern: '.*', retentions: '1s:2h' }] } },
    outputs: { render: { type: 'graphite_render' } },
  };
  const base = Math.floor(Date.now() / 1000) - 300;
  const lines = (p: number) => Array.from({ length: SERIES }, (_, s) => `nolink.s${s} ${s * 10 + p} ${base + p}\n`).join('');
  try {
    // first run: files created, then killed with points only in the cache and the WAL (the
    // update limit keeps most series' second batch in the cache for a few seconds)
    let proc = await spawnCarbonado({ ...config, stores: { main: { ...config.stores.main, maxUpdatesPerSecond: 100 } } });
    try {
      const lock = await readFile(join(dataDir, LOCK_FILE), 'utf8');
      assert.match(lock, new RegExp(`^${proc.pid} `), 'the lock, by exclusive create');
      const port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
      await send(port, lines(0));
      await waitFor(async () => (await storeStats(proc)).counters.creates === SERIES, 'every series created', 20_000, 100);
      const res = await fetch(`${proc.httpUrl}/render?target=nolink.s3&from=${base - 1}&until=${base + 5}&format=json`);
      assert.deepEqual(((await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>)[0]!.datapoints.filter(([v]) => v !== null), [[30, base]]);
      await send(port, lines(1) + lines(2));
      await waitFor(async () => (await storeStats(proc)).received === SERIES * 3, 'every point accepted', 10_000, 50);
      await new Promise((r) => setTimeout(r, 400)); // past the WAL's 200 ms flush
      assert.equal((await storeStats(proc)).errorsTotal, 0, JSON.stringify((await storeStats(proc)).errors));
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
    assert.ok(existsSync(join(dataDir, LOCK_FILE)), 'kill -9 leaves the lock');
    const written = (await Promise.all(Array.from({ length: SERIES }, (_, s) => valuesOnDisk(join(dataDir, 'nolink', `s${s}.wsp`), base, 3)))).filter((v) => v[2] !== null).length;
    assert.ok(written < SERIES, 'some points were only in the cache and the WAL at the kill');

    // second run: the stale lock is taken over, the WAL replayed, one more point, SIGTERM
    proc = await spawnCarbonado(config);
    try {
      assert.match(await readFile(join(dataDir, LOCK_FILE), 'utf8'), new RegExp(`^${proc.pid} `), 'the stale lock taken over');
      await send(portOf(proc.listening('inputs.carbon'), 'tcp').port, lines(3) + `${TAGGED} 42 ${base}\n`);
      await waitFor(async () => (await storeStats(proc)).received >= SERIES + 1, 'the new points accepted', 10_000, 50);
      assert.equal((await storeStats(proc)).errorsTotal, 0, JSON.stringify((await storeStats(proc)).errors));
    } finally {
      proc.kill('SIGTERM');
      assert.equal(await proc.exited, 0, proc.output().slice(-2000));
    }
    assert.ok(!existsSync(join(dataDir, LOCK_FILE)), 'SIGTERM releases the lock');

    // third run: a tagged series' file under carbon's readable name (TAG_HASH_FILENAMES = False),
    // its name known only from that file, is moved to its hashed name without a hard link
    const h = sha256Hex(TAGGED);
    const hashed = join(dataDir, '_tagged', h.slice(0, 3), h.slice(3, 6), `${h}.wsp`);
    const readable = join(dirname(hashed), readableFileName(TAGGED));
    await rename(hashed, readable);
    await rm(join(dataDir, TAGGED_NAMES_FILE));
    proc = await spawnCarbonado(config);
    try {
      assert.ok(existsSync(hashed) && !existsSync(readable), 'moved to its hashed name');
      assert.equal((await storeStats(proc)).counters.tagged_files_renamed, 1);
      const res = await fetch(`${proc.httpUrl}/render?target=${encodeURIComponent(`seriesByTag('k=v')`)}&from=${base - 1}&until=${base}&format=json`);
      assert.deepEqual(((await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>).map((x) => x.datapoints), [[[42, base]]]);
    } finally {
      proc.kill('SIGTERM');
      assert.equal(await proc.exited, 0, proc.output().slice(-2000));
    }

    let complete = 0;
    for (let s = 0; s < SERIES; s++) {
      const values = await valuesOnDisk(join(dataDir, 'nolink', `s${s}.wsp`), base, 4);
      if (values.every((v, p) => v === s * 10 + p)) complete++;
    }
    assert.equal(complete, SERIES, `series with all four points in their file (${written} had the third before the kill)`);
  } finally {
    await fs.remove();
  }
});

// The data directory on exFAT, or a case-sensitive data directory with an exFAT disk linked into
// it (`usb -> <exFAT>/tree`, as operators spread trees over disks): folding goes by the
// filesystem the names live on.
for (const layout of ['data directory', 'linked disk'] as const) {
  test(`a case-insensitive filesystem (exFAT ${layout}), two persist threads: names differing only in case reach one file through one thread, no point lost or misplaced`, async (t) => {
    const fs = await exfatDataDir(t);
    if (!fs) return;
    const PAIRS = 100;
    const ROUNDS = 6;
    let dataDir = fs.dataDir;
    let tree = fs.dataDir;
    let prefix = '';
    if (layout === 'linked disk') {
      dataDir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-ext-'));
      tree = join(fs.mnt, 'tree');
      await mkdir(tree);
      await symlink(tree, join(dataDir, 'usb'));
      prefix = 'usb.';
    }
    const config = {
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
      stores: { main: { type: 'whisper', dataDir, persistThreads: 2, schemas: [{ name: 't', pattern: '.*', retentions: '1s:2h' }] } },
      outputs: { render: { type: 'graphite_render' } },
    };
    const base = Math.floor(Date.now() / 1000) - 300;
    try {
      const proc = await spawnCarbonado(config);
      try {
        const port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
        // each round: every pair's two spellings, at two timestamps of their own; rounds a store
        // pass apart, so that files are created, kept open and updated by whichever thread has them
        for (let r = 0; r < ROUNDS; r++) {
          let text = '';
          for (let p = 0; p < PAIRS; p++) text += `${prefix}Case.p${p}.Total ${p * 100 + 2 * r} ${base + 2 * r}\n${prefix}case.p${p}.total ${p * 100 + 2 * r + 1} ${base + 2 * r + 1}\n`;
          await send(port, text);
          await new Promise((res) => setTimeout(res, 1100));
        }
        await waitFor(async () => (await storeStats(proc)).received === PAIRS * ROUNDS * 2, 'every point accepted', 10_000, 50);
        await waitFor(async () => (await storeStats(proc)).gauges.cache_points === 0, 'the cache written out', 10_000, 50);
        // either spelling reads the one file
        for (const target of [`${prefix}Case.p7.Total`, `${prefix}case.p7.total`]) {
          const res = await fetch(`${proc.httpUrl}/render?target=${target}&from=${base - 1}&until=${base + 2 * ROUNDS - 1}&format=json`);
          const [series] = (await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>;
          assert.deepEqual(series!.datapoints.map(([v]) => v), Array.from({ length: 2 * ROUNDS }, (_, i) => 700 + i), target);
        }
      } finally {
        proc.kill('SIGTERM');
        assert.equal(await proc.exited, 0, proc.output().slice(-2000));
      }
      const wrong: string[] = [];
      for (let p = 0; p < PAIRS; p++) {
        const values = await valuesOnDisk(join(tree, 'case', `p${p}`, 'total.wsp'), base, 2 * ROUNDS);
        if (values.some((v, i) => v !== p * 100 + i)) wrong.push(`p${p}: ${JSON.stringify(values)}`);
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${PAIRS} files lost or misplaced points`);
    } finally {
      if (dataDir !== fs.dataDir) await rm(dataDir, { recursive: true, force: true });
      await fs.remove();
    }
  });
}
