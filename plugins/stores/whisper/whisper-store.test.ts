import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { copyFile, lstat, mkdtemp, open, readFile, readdir, rename, rm, stat, symlink, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startInProcess, portOf, waitFor, type InProcess } from '../../../test/helpers/carbonado.js';
import { DEBIAN_PYTHON, hasPythonModule, requireHere, requirePeer } from '../../../test/helpers/peers.js';
import { crashWith, walFiles } from '../../../test/helpers/whisper-wal.js';
import { pointBatch } from '../../../core/index.js';
import { readHeader } from '../../shared/whisper-format/index.js';
import type { WhisperStore } from './whisper-store.js';

const NOW = Math.floor(Date.now() / 1000);
const SCHEMAS = [{ name: 'test', pattern: '.*', retentions: '10s:1h,60s:1d' }];

async function tmp(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `carbonado-whisper-${prefix}-`));
}

async function start(dataDir: string, extra: Record<string, unknown> = {}): Promise<{ c: InProcess; store: WhisperStore; port: number }> {
  const c = await startInProcess({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir, schemas: SCHEMAS, ...extra } },
  });
  const store = c.runtime.instance<WhisperStore>('stores.main')!;
  return { c, store, port: portOf(c.listening('inputs.carbon'), 'tcp').port };
}

function send(port: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(lines.map((l) => `${l}\n`).join('')));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

function valuesOf(v: Float64Array): Array<number | null> {
  return [...v].map((x) => (Number.isNaN(x) ? null : x));
}

test('a point is readable the moment it is accepted, in the finest and a coarser archive', async () => {
  const dir = await tmp('merge');
  const { c, store } = await start(dir, { aggregation: [{ name: 's', pattern: 'sum$', aggregationMethod: 'sum', xFilesFactor: 0 }] });
  try {
    const t0 = NOW - (NOW % 60) - 120;
    store.write(pointBatch([['m.sum', 1, t0], ['m.sum', 2, t0 + 10], ['m.sum', 4, t0 + 20], ['m.avg', 3, t0]]));
    // no await between write and fetch: the points are in the cache or already on disk
    const [fine, avg] = await store.fetch(['m.sum', 'm.avg'], NOW - 600, NOW);
    assert.equal(fine!.step, 10);
    const i = (t0 - fine!.start) / 10;
    assert.deepEqual(valuesOf(fine!.values).slice(i, i + 3), [1, 2, 4]);
    assert.equal(avg!.values[(t0 - avg!.start) / 10], 3);
    const [coarse] = await store.fetch(['m.sum'], NOW - 7200, NOW);
    assert.equal(coarse!.step, 60);
    assert.equal(coarse!.values[(t0 - coarse!.start) / 60], 7); // consolidated with the file's method
    assert.deepEqual(await store.find('m.*'), [
      { path: 'm.avg', isLeaf: true },
      { path: 'm.sum', isLeaf: true },
    ]);
    // and once on disk, the same answers
    await waitFor(() => store.stats().cache_points === 0, 'cache drained');
    const [after] = await store.fetch(['m.sum'], NOW - 7200, NOW);
    assert.equal(after!.values[(t0 - after!.start) / 60], 7);
    assert.equal((await stat(join(dir, 'm', 'sum.wsp'))).isFile(), true);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('carbon_line → whisper → python whisper-fetch; tagged series, find, restart', async (t) => {
  const dir = await tmp('e2e');
  // two persist threads whatever the machine's cores ('auto' is one on two cores): the sharded path
  let { c, store, port } = await start(dir, { persistThreads: 2 });
  try {
    const t0 = NOW - (NOW % 10) - 100;
    const lines: string[] = [];
    for (let i = 0; i < 10; i++) lines.push(`app.web1.req ${i} ${t0 + i * 10}`, `disk.used;host=a;dc=x ${i * 2} ${t0 + i * 10}`);
    lines.push('bad..name 1 1', `nan.value nan ${t0}`);
    await send(port, lines);
    await waitFor(async () => (await store.fetch(['app.web1.req'], t0 - 1, t0 + 100))[0]?.values[9] === 9, 'points readable');
    assert.deepEqual(await store.find('app.*'), [{ path: 'app.web1', isLeaf: false }]);
    assert.deepEqual(await store.find('disk.used;dc=x;host=a'), [{ path: 'disk.used;dc=x;host=a', isLeaf: true }]);
    assert.deepEqual(await store.tags.findTagged([{ tag: 'host', op: '=', value: 'a' }]), ['disk.used;dc=x;host=a']);
    assert.equal((await store.find('_tagged.*')).length, 1);
    await c.stop();
    // the WAL is gone after a clean stop, the files hold everything
    const wal = await readdir(join(dir, '.carbonado-wal'));
    assert.deepEqual(wal, []);
    if (requirePeer(t, hasPythonModule('whisper'), 'python3-whisper')) {
      const r = spawnSync(DEBIAN_PYTHON, ['/usr/bin/whisper-fetch', '--json', `--from=${t0 - 1}`, `--until=${t0 + 99}`, join(dir, 'app', 'web1', 'req.wsp')], { encoding: 'utf8' });
      assert.deepEqual(JSON.parse(r.stdout).values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    ({ c, store, port } = await start(dir));
    assert.deepEqual(await store.tags.tagValues('dc'), ['x']);
    const [tagged] = await store.fetch(['disk.used;dc=x;host=a'], t0 - 1, t0 + 99);
    assert.deepEqual(valuesOf(tagged!.values), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    const st = c.stats().instances['stores.main']!;
    assert.equal(st.dropped.bad_name ?? 0, 0); // refused by the input already
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('corrupt and truncated files are skipped and counted, never overwritten; an empty file is set aside and recreated', async () => {
  const dir = await tmp('corrupt');
  await mkdir(join(dir, 'srv'), { recursive: true });
  await writeFile(join(dir, 'srv', 'zero.wsp'), '');
  await writeFile(join(dir, 'srv', 'trunc.wsp'), Buffer.from('00000001000000640000000000000001000000280000000a', 'hex'));
  const { c, store } = await start(dir);
  try {
    store.write(pointBatch([['srv.ok', 1, NOW - 20], ['srv.zero', 1, NOW - 20], ['srv.trunc', 1, NOW - 20]]));
    const names = (await store.find('srv.*')).map((n) => n.path);
    assert.deepEqual(names, ['srv.ok', 'srv.trunc', 'srv.zero']);
    assert.ok(!(await store.fetch(names, NOW - 100, NOW)).some((s) => s.name === 'srv.trunc'));
    await waitFor(() => store.stats().cache_points === 0, 'cache settled');
    const got = await store.fetch(names, NOW - 100, NOW);
    assert.deepEqual(got.map((s) => s.name), ['srv.ok', 'srv.zero']);
    assert.ok(Array.from(got[1]!.values).includes(1), 'the empty file was recreated with its point');
    const st = c.stats().instances['stores.main']!;
    assert.ok((st.errors.corrupt_file ?? 0) >= 1, JSON.stringify(st.errors));
    assert.equal(st.errors.torn_file, 1, JSON.stringify(st.errors));
    assert.equal(st.dropped.corrupt_file, 1);
    const aside = (await readdir(join(dir, 'srv'))).filter((f) => f.startsWith('zero.wsp.torn-'));
    assert.equal(aside.length, 1);
    assert.equal((await stat(join(dir, 'srv', aside[0]!))).size, 0);
    assert.equal((await stat(join(dir, 'srv', 'trunc.wsp'))).size, 24);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file cut short, or its archive table damaged, while the store keeps it open is not written again: counted as corrupt', async () => {
  const dir = await tmp('cut');
  const { c, store } = await start(dir);
  try {
    const t0 = NOW - (NOW % 10) - 600;
    store.write(pointBatch([['cut.a', 1, t0], ['cut.b', 1, t0]]));
    await waitFor(() => store.stats().cache_points === 0, 'files written (and kept open)');
    const path = join(dir, 'cut', 'a.wsp');
    const full = (await stat(path)).size;
    // the header stays, the archives' end goes: the persist thread holds this file open
    const fh = await open(path, 'r+');
    await fh.truncate(200);
    await fh.close();
    // the metadata stays, the first archive's offset points past the end (reads call it corrupt)
    const damaged = join(dir, 'cut', 'b.wsp');
    const fb = await open(damaged, 'r+');
    const offset = Buffer.alloc(4);
    offset.writeUInt32BE(200_000);
    await fb.write(offset, 0, 4, 16);
    await fb.close();
    const before = await readFile(damaged);
    store.write(pointBatch([['cut.a', 2, t0 + 10], ['cut.b', 2, t0 + 10]]));
    await waitFor(() => (c.stats().instances['stores.main']!.dropped.corrupt_file ?? 0) >= 2, 'both files refused');
    assert.equal(c.stats().instances['stores.main']!.dropped.corrupt_file, 2);
    assert.equal((await stat(path)).size, 200, 'never written (nor grown) again');
    assert.ok(full > 200);
    assert.ok((await readFile(damaged)).equals(before), 'the damaged file is not written into');
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a create on a read-only filesystem is an EROFS error kept for retry, not a file removed by an operator', async (t) => {
  const dir = await tmp('erofs');
  const ro = join(dir, 'ro');
  await mkdir(ro);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]).status === 0;
  if (!mounted) await rm(dir, { recursive: true, force: true });
  if (!requireHere(t, mounted, 'root, to mount a read-only tmpfs')) return;
  let started: Awaited<ReturnType<typeof start>> | undefined;
  try {
    started = await start(dir);
    const { c, store } = started;
    store.write(pointBatch([['ro.sub.x', 1, NOW - 20], ['rw.y', 1, NOW - 20]]));
    await waitFor(() => (c.stats().instances['stores.main']!.errors.erofs ?? 0) >= 1, 'EROFS counted');
    const st = c.stats().instances['stores.main']!;
    assert.equal(st.counters.files_removed ?? 0, 0, JSON.stringify(st.counters));
    assert.ok((await stat(join(dir, 'rw', 'y.wsp'))).size > 0, 'the other series is written');
    assert.equal(store.stats().cache_points, 1, 'the point stays queued');
  } finally {
    await started?.c.stop();
    spawnSync('umount', [ro]);
    await rm(dir, { recursive: true, force: true });
  }
});

test('the create limit queues new series (none dropped); stop writes them all', async () => {
  const dir = await tmp('creates');
  const { c, store } = await start(dir, { maxCreatesPerMinute: 1 });
  try {
    const names = ['q.a', 'q.b', 'q.c', 'q.d', 'q.e'];
    store.write(pointBatch(names.map((n, i) => [n, i, NOW - 30] as [string, number, number])));
    await waitFor(() => store.stats().series_on_disk === 1 && store.stats().creates_queued === 4, 'one create, four queued');
    const got = await store.fetch(names, NOW - 100, NOW);
    assert.equal(got.length, 5);
    await c.stop();
    for (const n of names) assert.ok((await stat(join(dir, 'q', `${n.slice(2)}.wsp`))).size > 0);
  } finally {
    await c.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test('over the high-water mark the store signals pressure; over the budget it drops and counts', async () => {
  const dir = await tmp('pressure');
  const { c, store } = await start(dir, { cacheMaxPoints: 1000, pressureHighPercent: 50, pressureLowPercent: 10, maxUpdatesPerSecond: 1 });
  try {
    const events: boolean[] = [];
    c.runtime.services.bus.on('pressure', (s) => events.push(s.active));
    const batch: Array<[string, number, number]> = [];
    for (let i = 0; i < 1500; i++) batch.push([`p.s${i % 3}`, i, NOW - 3000 + i]);
    store.write(pointBatch(batch));
    assert.deepEqual(events, [true]);
    const st = c.stats().instances['stores.main']!;
    assert.equal(st.dropped.cache_full, 500);
    assert.equal(st.counters.cache_overflow, 500);
    await waitFor(() => events.length === 2, 'pressure released', 15_000);
    assert.deepEqual(events, [true, false]);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a low maxUpdatesPerSecond writes series at its rate, not a chunk at a time; a stop writes the rest at once', async () => {
  const dir = await tmp('ratelimit');
  const { c, store } = await start(dir, { maxUpdatesPerSecond: 4 });
  const names = Array.from({ length: 40 }, (_, i) => `u.s${i}`);
  try {
    store.write(pointBatch(names.map((n, i) => [n, i, NOW - 30] as [string, number, number])));
    // 4 a second (plus the bucket's first 4): some files within ~2 s, far from all 40
    await waitFor(() => store.stats().series_on_disk >= 6, 'files written at the limited rate', 5000);
    assert.ok(store.stats().series_on_disk < 40);
    const t = performance.now();
    await c.stop();
    assert.ok(performance.now() - t < 5000, `stop took ${Math.round(performance.now() - t)} ms`);
    for (const n of names) assert.ok((await stat(join(dir, 'u', `${n.slice(2)}.wsp`))).size > 0, n);
  } finally {
    await c.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a fractional maxUpdatesPerSecond (carbon allows 0.5) writes one series, then the next a token later; a stop does not wait for a token', async () => {
  const names = ['f.a', 'f.b', 'f.c', 'f.d', 'f.e', 'f.g'];
  const points = () => pointBatch(names.map((n) => [n, 1, NOW - 30] as [string, number, number]));
  const dir = await tmp('ratefraction');
  const { c, store } = await start(dir, { maxUpdatesPerSecond: 0.5, maxCreatesPerMinute: 600.5 });
  try {
    store.write(points());
    // the first at once (a bucket holds at least one token), the second 2 s later
    await waitFor(() => store.stats().series_on_disk >= 2, 'files written at one every 2 s', 5000);
    assert.ok(store.stats().series_on_disk < 5);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // one update every 100 s: the pass waits for its next token, and a stop must not
  const slow = await tmp('rateslow');
  const s2 = await start(slow, { maxUpdatesPerSecond: 0.01 });
  try {
    s2.store.write(points());
    await waitFor(() => s2.store.stats().series_on_disk === 1, 'the first file', 5000);
    const t = performance.now();
    await s2.c.stop();
    // waiting for the token would take 100 s per series; the stop's own sync may take a few on a busy disk
    assert.ok(performance.now() - t < 20_000, `stop took ${Math.round(performance.now() - t)} ms`);
    for (const n of names) assert.ok((await stat(join(slow, 'f', `${n.slice(2)}.wsp`))).size > 0, n);
  } finally {
    await s2.c.stop().catch(() => undefined);
    await rm(slow, { recursive: true, force: true });
  }
});

test('rules from carbon files: first match wins, SIGHUP reloads, new files only', async () => {
  const dir = await tmp('rules');
  const schemasFile = join(dir, 'storage-schemas.conf');
  const aggregationFile = join(dir, 'storage-aggregation.conf');
  await writeFile(schemasFile, '[counts]\npattern = ^stats_counts\\.\nretentions = 10s:1h,1m:1d\n');
  await writeFile(aggregationFile, '[sum]\npattern = ^stats_counts\\.\nxFilesFactor = 0\naggregationMethod = sum\n');
  const { c, store } = await start(join(dir, 'data'), { schemas: [], aggregation: [], schemasFile, aggregationFile });
  try {
    store.write(pointBatch([['stats_counts.x', 1, NOW - 30], ['other', 1, NOW - 30]]));
    await waitFor(() => store.stats().series_on_disk === 2, 'created');
    const fh = await open(join(dir, 'data', 'stats_counts', 'x.wsp'), 'r');
    const h = await readHeader(fh, 'x');
    await fh.close();
    assert.equal(h.aggregationMethod, 'sum');
    assert.deepEqual(h.archives.map((a) => [a.secondsPerPoint, a.points]), [[10, 360], [60, 1440]]);
    const fh2 = await open(join(dir, 'data', 'other.wsp'), 'r');
    const h2 = await readHeader(fh2, 'other');
    await fh2.close();
    assert.deepEqual(h2.archives.map((a) => [a.secondsPerPoint, a.points]), [[60, 10080]]); // carbon's fallback
    assert.equal(h2.aggregationMethod, 'average');
    // SIGHUP re-reads the files; only files created afterwards follow the new rules
    await writeFile(schemasFile, '[all]\npattern = .*\nretentions = 1s:1h\n');
    c.runtime.services.bus.emit('reload'); // what the CLI does on SIGHUP
    await waitFor(() => c.stats().instances['stores.main']!.counters.rules_reloaded === 1, 'rules reloaded');
    store.write(pointBatch([['later', 1, NOW - 30], ['other', 2, NOW - 20]]));
    await waitFor(() => store.stats().series_on_disk === 3 && store.stats().cache_points === 0, 'created');
    const fh3 = await open(join(dir, 'data', 'later.wsp'), 'r');
    assert.deepEqual((await readHeader(fh3, 'later')).archives.map((a) => [a.secondsPerPoint, a.points]), [[1, 3600]]);
    await fh3.close();
    const fh4 = await open(join(dir, 'data', 'other.wsp'), 'r');
    assert.deepEqual((await readHeader(fh4, 'other')).archives.map((a) => [a.secondsPerPoint, a.points]), [[60, 10080]]);
    await fh4.close();
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: points of an unclean stop are replayed at start', async () => {
  const dir = await tmp('wal');
  const { c, store } = await start(dir, { maxCreatesPerMinute: 1, walFlushIntervalMs: 20 });
  const names = ['w.a', 'w.b', 'w.c'];
  store.write(pointBatch(names.map((n, i) => [n, i + 1, NOW - 30] as [string, number, number])));
  await waitFor(async () => (await walFiles(join(dir, '.carbonado-wal'))).some(([, b]) => b.includes('w.c')), 'WAL written');
  // simulate a crash: copy the WAL aside before the clean stop deletes it
  const walDir = join(dir, '.carbonado-wal');
  // segments only: the lock is this process's, and a crashed process's would be stale
  const saved = await walFiles(walDir);
  const walBytes = saved.reduce((n, [, b]) => n + b.length, 0);
  await waitFor(() => (c.stats().instances['stores.main']!.counters.wal_bytes_written ?? 0) >= walBytes, 'the bytes counted');
  await c.stop();
  await rm(join(dir, 'w'), { recursive: true, force: true });
  for (const [f, b] of saved) await writeFile(join(walDir, f), b);
  const again = await start(dir);
  try {
    const got = await again.store.fetch(names, NOW - 100, NOW);
    assert.deepEqual(got.map((s) => s.name), names);
    assert.equal(again.c.stats().instances['stores.main']!.counters.wal_replayed_points, 3);
  } finally {
    await again.c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a failed write (a real ENOSPC) starts a new segment with every unwritten point; a crash after it loses nothing', async () => {
  const dir = await tmp('walfull');
  const walDir = join(dir, '.carbonado-wal');
  const { c, store } = await start(dir, { maxCreatesPerMinute: 1, walFlushIntervalMs: 20, walSyncIntervalMs: 50, walSegmentSecs: 1 });
  let saved: Array<readonly [string, Buffer]>;
  const t0 = NOW - (NOW % 10) - 3000;
  let sent = 0;
  try {
    // the store writes segment 1; segment 2 is /dev/full, where every write fails with ENOSPC
    await symlink('/dev/full', join(walDir, '000000000002.wal'));
    store.write(pointBatch([['f.created', 1, NOW - 100]])); // takes the one create of this minute
    const counters = () => c.stats().instances['stores.main']!;
    await waitFor(
      () => {
        // f.queued never gets a file while running (the create limit): only the WAL keeps its points
        store.write(pointBatch([['f.queued', sent, t0 + 10 * sent]]));
        sent++;
        return (counters().counters.wal_restarts ?? 0) >= 1;
      },
      'a new WAL segment after the failed write',
      10_000,
      20,
    );
    assert.ok((counters().errors.wal_write ?? 0) >= 1, JSON.stringify(counters().errors));
    store.write(pointBatch([['f.after', 7, t0]]));
    // in the re-log segment (3), or the next if a rotation came in between
    await waitFor(async () => (await walFiles(walDir)).some(([f, b]) => f >= '000000000003.wal' && b.includes('f.after')), 'the point after the restart in the WAL');
    saved = await walFiles(walDir);
  } catch (err) {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  await crashWith(c, dir, saved, 'f');
  const again = await start(dir);
  try {
    const [queued, after] = await again.store.fetch(['f.queued', 'f.after'], t0 - 10, NOW);
    const got = valuesOf(queued!.values).filter((v) => v !== null);
    assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i));
    assert.equal(after!.values[(t0 - after!.start) / 10], 7);
  } finally {
    await again.c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a data directory moved away while running: the WAL starts again in the new one with the unwritten points', async () => {
  const root = await tmp('walmoved');
  const dir = join(root, 'data');
  const { c, store } = await start(dir, { maxCreatesPerMinute: 1, walFlushIntervalMs: 20, walSyncIntervalMs: 50 });
  const t0 = NOW - (NOW % 10) - 600;
  let saved: Array<readonly [string, Buffer]>;
  try {
    store.write(pointBatch([['m.created', 1, t0]]));
    store.write(pointBatch([0, 1, 2].map((i) => ['m.queued', i, t0 + 10 * i] as [string, number, number])));
    await waitFor(async () => (await walFiles(join(dir, '.carbonado-wal'))).some(([, b]) => b.includes('m.queued')), 'points in the WAL');
    await rename(dir, join(root, 'moved'));
    await waitFor(() => (c.stats().instances['stores.main']!.counters.wal_restarts ?? 0) >= 1, 'the WAL started again', 5000);
    saved = await walFiles(join(dir, '.carbonado-wal'));
    assert.ok(saved.some(([, b]) => b.includes('m.queued')), 'the unwritten points are in the new directory');
  } catch (err) {
    await c.stop();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  await crashWith(c, dir, saved, 'm');
  const again = await start(dir);
  try {
    const [queued] = await again.store.fetch(['m.queued'], t0 - 10, NOW);
    assert.deepEqual(valuesOf(queued!.values).filter((v) => v !== null), [0, 1, 2]);
  } finally {
    await again.c.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('WAL replay: written out within the cache budget, and the replayed segments deleted once their points are in the files', async () => {
  const dir = await tmp('replay');
  const walDir = join(dir, '.carbonado-wal');
  const first = await start(dir, { walFlushIntervalMs: 20 });
  const t0 = NOW - (NOW % 10) - 3000;
  const names = ['r.a', 'r.b', 'r.c', 'r.d', 'r.e'];
  let saved: Array<readonly [string, Buffer]>;
  try {
    for (const n of names) first.store.write(pointBatch(Array.from({ length: 300 }, (_, i) => [n, i, t0 + 10 * i] as [string, number, number])));
    for (const n of names) first.store.write(pointBatch(Array.from({ length: 300 }, (_, i) => [n, i, t0 + 10 * i] as [string, number, number])));
    await waitFor(async () => (await walFiles(walDir)).reduce((a, [, b]) => a + b.length, 0) >= 3000 * 20, 'every point in the WAL');
    saved = await walFiles(walDir);
  } catch (err) {
    await first.c.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  await crashWith(first.c, dir, saved, 'r');
  // a budget smaller than the WAL, a segment length far beyond the test, and rate limits the
  // replay must not wait for (a store that cannot start after a crash would be worse)
  const t = performance.now();
  const again = await start(dir, { cacheMaxPoints: 1000, walSegmentSecs: 3600, maxUpdatesPerSecond: 1, maxCreatesPerMinute: 1 });
  assert.ok(performance.now() - t < 10_000, `start took ${Math.round(performance.now() - t)} ms`);
  try {
    // the replay wrote the cache out as it filled instead of holding all 3,000 points (each
    // series twice, as a client that resends would)
    assert.ok(again.store.stats().cache_points <= 1000, String(again.store.stats().cache_points));
    const got = await again.store.fetch(names, t0 - 10, NOW);
    for (const s of got) assert.deepEqual(valuesOf(s.values).filter((v) => v !== null), Array.from({ length: 300 }, (_, i) => i), s.name);
    // a crash loop would otherwise replay (and keep) these points at every start until the next rotation
    await waitFor(async () => (await walFiles(walDir)).every(([f]) => !saved.some(([g]) => g === f)), 'replayed segments deleted', 20_000);
  } finally {
    await again.c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a tagged name longer than 1024 characters with its tags is refused; the points around it reach the WAL and survive a crash', async () => {
  const dir = await tmp('longtag');
  const walDir = join(dir, '.carbonado-wal');
  const first = await start(dir, { walFlushIntervalMs: 20, maxCreatesPerMinute: 0.01 });
  const t = NOW - (NOW % 10) - 60;
  let saved: Array<readonly [string, Buffer]>;
  try {
    // a WAL record names a series in at most 65,535 bytes: this one broke the record and lost l.b
    first.store.write(pointBatch([['l.a', 1, t], [`l.long;k=${'v'.repeat(70_000)}`, 2, t], ['l.b', 3, t]]));
    await waitFor(async () => (await walFiles(walDir)).reduce((a, [, b]) => a + b.length, 0) >= 8 + 8 + 2 * 20 + 2 * 9, 'both points in the WAL');
    assert.equal(first.c.stats().instances['stores.main']!.dropped.bad_name, 1);
    saved = await walFiles(walDir);
  } catch (err) {
    await first.c.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  await crashWith(first.c, dir, saved, 'l');
  const again = await start(dir);
  try {
    const got = await again.store.fetch(['l.a', 'l.b'], t - 10, t + 10);
    assert.deepEqual(got.map((s) => valuesOf(s.values).filter((v) => v !== null)), [[1], [3]]);
    assert.equal(again.c.stats().instances['stores.main']!.errors.wal_damaged ?? 0, 0);
  } finally {
    await again.c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL replay of segments without points (a crash loop with no traffic) deletes them at start', async () => {
  const dir = await tmp('emptywal');
  const walDir = join(dir, '.carbonado-wal');
  await mkdir(walDir, { recursive: true });
  // what each start of a crash loop leaves: a segment holding only its magic
  for (const seq of [3, 4, 5]) await writeFile(join(walDir, `${String(seq).padStart(12, '0')}.wal`), 'CBOWAL2\n');
  const { c } = await start(dir);
  try {
    assert.deepEqual((await readdir(walDir)).filter((f) => f.endsWith('.wal')), ['000000000006.wal']);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: while the WAL cannot be written, re-logging backs off instead of re-encoding the cache every flush', async () => {
  const dir = await tmp('walbackoff');
  const walDir = join(dir, '.carbonado-wal');
  const { c, store } = await start(dir, { maxCreatesPerMinute: 1, walFlushIntervalMs: 20, walSyncIntervalMs: 50, walSegmentSecs: 1 });
  try {
    // every segment after the first fails (a disk that stays full)
    for (let seq = 2; seq <= 30; seq++) await symlink('/dev/full', join(walDir, `${String(seq).padStart(12, '0')}.wal`));
    store.write(pointBatch([['b.created', 1, NOW - 100]]));
    const errors = () => c.stats().instances['stores.main']!.errors.wal_write ?? 0;
    let i = 0;
    await waitFor(() => {
      store.write(pointBatch([['b.queued', i, NOW - 3000 + 10 * i++]]));
      return errors() >= 1;
    }, 'the WAL failing', 10_000, 20);
    const first = errors();
    await new Promise((r) => setTimeout(r, 3500));
    // tries at ~0, 1, 3 s (1 s, 2 s back-off): without it, one every 20 ms flush
    assert.ok(errors() - first <= 4, `${errors() - first} failures in 3.5 s`);
    for (const f of await readdir(walDir)) if ((await lstat(join(walDir, f))).isSymbolicLink()) await unlink(join(walDir, f));
    await waitFor(() => (c.stats().instances['stores.main']!.counters.wal_restarts ?? 0) >= 1, 'the WAL started again once space is back', 15_000);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('one store per WAL directory too, and a data directory reached through a symlink is one directory', async () => {
  const root = await tmp('lockwal');
  const a = join(root, 'a');
  const b = join(root, 'b');
  const first = await start(a);
  try {
    const refused = await start(b, { walDir: join(a, '.carbonado-wal') }).then(
      async (s) => {
        await s.c.stop();
        return undefined;
      },
      (err: Error) => err,
    );
    assert.match(refused?.message ?? 'started', /\.carbonado-wal is in use by process \d+/);
  } finally {
    await first.c.stop();
  }
  // the WAL directory named through a link to the data directory: one lock, the store starts
  await symlink(a, join(root, 'link'));
  const linked = await start(a, { walDir: join(root, 'link') });
  await linked.c.stop();
  await rm(root, { recursive: true, force: true });
});

test('one store per data directory: a second one is refused while the first runs; a stale lock is taken over', async () => {
  const dir = await tmp('lock');
  const first = await start(dir);
  try {
    const refused = await start(dir).then(
      async (s) => {
        await s.c.stop(); // a second store that started: stop it, or it keeps the test process alive
        return undefined;
      },
      (err: Error) => err,
    );
    assert.match(refused?.message ?? 'started', /in use by process \d+ .*\.carbonado-lock/);
    // the first store is untouched by the refused start
    first.store.write(pointBatch([['l.a', 1, NOW - 10]]));
    await waitFor(() => first.store.stats().cache_points === 0, 'the first store writes');
  } finally {
    await first.c.stop();
  }
  // a lock left by a process that is gone (kill -9): pid of a process that has exited
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  await writeFile(join(dir, '.carbonado-lock'), `${gone} - -\n`);
  const second = await start(dir);
  try {
    assert.match(await readFile(join(dir, '.carbonado-lock'), 'utf8'), new RegExp(`^${process.pid} `));
  } finally {
    await second.c.stop();
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(stat(join(dir, '.carbonado-lock')));
});

test('Graphite HTTP API (graphite_render) over the whisper store: find, render, seriesByTag, tags', async () => {
  const dir = await tmp('api');
  const c = await startInProcess({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir: dir, schemas: SCHEMAS } },
    outputs: { graphite: { type: 'graphite_render' } },
  });
  try {
    const port = portOf(c.listening('inputs.carbon'), 'tcp').port;
    const t = NOW - (NOW % 10) - 30;
    await send(port, [`srv.web1.cpu 1 ${t}`, `srv.web2.cpu 2 ${t}`, `disk;host=a 5 ${t}`]);
    await waitFor(() => c.stats().instances['stores.main']!.received === 3, 'points accepted');
    const get = async (q: string): Promise<unknown> => (await fetch(`${c.httpUrl}${q}`)).json();
    const found = (await get('/metrics/find?query=srv.*')) as Array<{ id: string; leaf: number }>;
    assert.deepEqual(found.map((n) => [n.id, n.leaf]), [['srv.web1', 0], ['srv.web2', 0]]);
    const sum = (await get(`/render?target=sumSeries(srv.*.cpu)&from=${t - 10}&until=${t + 10}&format=json`)) as Array<{ datapoints: Array<[number | null, number]> }>;
    assert.deepEqual(sum[0]!.datapoints.filter((p) => p[0] !== null), [[3, t]]);
    const tagged = (await get(`/render?target=seriesByTag('host=a')&from=${t - 10}&until=${t + 10}&format=json`)) as Array<{ target: string; datapoints: Array<[number | null, number]> }>;
    assert.equal(tagged[0]!.target, 'disk;host=a');
    assert.deepEqual(tagged[0]!.datapoints.filter((p) => p[0] !== null), [[5, t]]);
    assert.deepEqual(await get('/tags/autoComplete/tags'), ['host', 'name']);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('new files: the staging directory is emptied at start, and creates recover when it or the target directory is removed meanwhile', async () => {
  const dir = await tmp('staging');
  // a leftover of a create a crash interrupted
  await mkdir(join(dir, '.carbonado-staging', '9'), { recursive: true });
  await writeFile(join(dir, '.carbonado-staging', '9', '1.wsp.tmp'), 'partial');
  const { c, store } = await start(dir);
  try {
    assert.deepEqual(await readdir(dir).then((l) => l.includes('.carbonado-staging') ? readdir(join(dir, '.carbonado-staging')) : []), []);
    const t = NOW - (NOW % 10) - 60;
    store.write(pointBatch([['a.one', 1, t]]));
    await waitFor(() => store.stats().series_on_disk === 1 && store.stats().cache_points === 0, 'a.one on disk');
    await rm(join(dir, '.carbonado-staging'), { recursive: true, force: true });
    await rm(join(dir, 'a'), { recursive: true, force: true });
    store.write(pointBatch([['a.two', 2, t]]));
    await waitFor(() => store.stats().series_on_disk === 2 && store.stats().cache_points === 0, 'a.two on disk', 10_000);
    const fh = await open(join(dir, 'a', 'two.wsp'), 'r');
    try {
      assert.equal((await readHeader(fh, 'two.wsp')).archives.length, 2);
    } finally {
      await fh.close();
    }
    const [two] = await store.fetch(['a.two'], NOW - 600, NOW);
    assert.equal(two!.values[(t - two!.start) / 10], 2);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file removed just before SIGTERM is created again by the drain: nothing is left in the WAL', async () => {
  const dir = await tmp('removed-at-stop');
  const { c, store } = await start(dir);
  const file = join(dir, 'gone', 'soon.wsp');
  const t0 = NOW - (NOW % 60) - 120;
  let stopped = false;
  try {
    store.write(pointBatch([['gone.soon', 1, t0]]));
    await waitFor(async () => (await stat(file).catch(() => undefined)) !== undefined && c.stats().instances['stores.main']!.gauges.cache_points === 0, 'the first point on disk');
    await rm(file);
    store.write(pointBatch([['gone.soon', 2, t0 + 10]]));
    await c.stop(); // at once: the drain's first update finds the file gone
    stopped = true;
    assert.equal(c.stats().instances['stores.main']!.counters.files_removed, 1);
  } finally {
    if (!stopped) await c.stop();
  }
  assert.deepEqual(await readdir(join(dir, '.carbonado-wal')).catch(() => []), [], 'every WAL segment deleted: nothing was left unwritten');
  const again = await start(dir);
  try {
    const [s] = await again.store.fetch(['gone.soon'], t0 - 10, t0 + 10);
    assert.deepEqual(valuesOf(s!.values), [null, 2]);
  } finally {
    await again.c.stop();
  }
});

test('a file that cannot be written loses its own points, not the store: no stall, no pinned WAL', async () => {
  const dir = await tmp('unwritable');
  // a directory where the file should be: EISDIR at every write (root ignores permissions, not this)
  await mkdir(join(dir, 'stuck.wsp'), { recursive: true });
  const { c, store, port } = await start(dir, { cacheMaxPoints: 1000, walSegmentSecs: 1 });
  try {
    const t0 = NOW - (NOW % 10) - 3000;
    // more than the pressure mark (800 of 1000): kept queued, these points would pause the input for good
    await send(port, Array.from({ length: 900 }, (_, i) => `stuck ${i} ${t0 + i * 10}`));
    await waitFor(() => (c.stats().instances['stores.main']!.dropped.write_failed ?? 0) >= 900, 'the stuck series dropped');
    for (let round = 0; round < 4; round++) {
      await send(port, Array.from({ length: 200 }, (_, i) => `ok.s${i % 20} ${round} ${t0 + round * 10}`).concat(`stuck 1 ${t0 + round * 10}`));
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitFor(() => store.stats().cache_points === 0, 'cache drained');
    const st = c.stats().instances['stores.main']!;
    assert.ok((st.errors.eisdir ?? 0) >= 1, JSON.stringify(st.errors));
    assert.equal(st.dropped.cache_full ?? 0, 0);
    const [ok] = await store.fetch(['ok.s0'], t0, t0 + 40);
    assert.equal(ok!.values[(t0 + 30 - ok!.start) / 10], 3);
    // the stuck series pins no WAL segment: old ones are deleted as segments rotate
    await waitFor(async () => (await readdir(join(dir, '.carbonado-wal'))).filter((f) => f.endsWith('.wal')).length <= 2, 'WAL segments released', 8000);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a last node too long for a file name (over 251 bytes with .wsp) is refused, not retried for ever', async () => {
  const dir = await tmp('longleaf');
  const { c, store, port } = await start(dir);
  try {
    const t0 = NOW - (NOW % 10) - 100;
    const fits = `long.${'a'.repeat(251)}`;
    const tooLong = `long.${'b'.repeat(252)}`;
    const wide = `long.${'é'.repeat(126)}`; // 252 bytes in UTF-8
    await send(port, [`${tooLong} 1 ${t0}`, `${wide} 1 ${t0}`, `${fits} 2 ${t0}`, `long.ok 3 ${t0}`]);
    await waitFor(() => store.stats().series_on_disk === 2 && store.stats().cache_points === 0, 'the two valid series written');
    const st = c.stats().instances['stores.main']!;
    assert.equal(st.dropped.bad_name, 2);
    assert.deepEqual(Object.keys(st.errors), []);
    assert.deepEqual((await store.find('long.*')).map((n) => n.path).sort(), [fits, 'long.ok']);
    assert.equal((await stat(join(dir, 'long', `${'a'.repeat(251)}.wsp`))).isFile(), true);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('SIGHUP re-reads the tree: files made or deleted by other tools while running', async () => {
  const dir = await tmp('rescan');
  const { c, store } = await start(dir);
  try {
    const t0 = NOW - (NOW % 10) - 100;
    store.write(pointBatch([['srv.a', 1, t0], ['srv.b', 2, t0], ['srv.c', 3, t0], ['app.x;env=prod', 4, t0]]));
    await waitFor(() => store.stats().cache_points === 0 && store.stats().series_on_disk >= 4, 'written');
    // a restore or whisper-create puts a file in; a cleanup deletes one
    await mkdir(join(dir, 'restored'), { recursive: true });
    await copyFile(join(dir, 'srv', 'a.wsp'), join(dir, 'restored', 'r1.wsp'));
    await unlink(join(dir, 'srv', 'b.wsp'));
    assert.deepEqual((await store.find('restored.*')).map((n) => n.path), []);
    c.runtime.services.bus.emit('reload'); // what the CLI does on SIGHUP
    await waitFor(() => (c.stats().instances['stores.main']!.counters.rescans ?? 0) === 1, 'rescanned');
    assert.deepEqual((await store.find('restored.*')).map((n) => n.path), ['restored.r1']);
    assert.deepEqual((await store.find('srv.*')).map((n) => n.path), ['srv.a', 'srv.c']);
    const [r1] = await store.fetch(['restored.r1'], t0 - 10, t0 + 10);
    assert.equal(r1!.values[(t0 - r1!.start) / 10], 1);
    // the tagged series' file is still there: still found by tag
    assert.deepEqual(await store.tags.tagValues('env'), ['prod']);
    // a deleted series that gets points again is created again and listed again
    store.write(pointBatch([['srv.b', 5, t0]]));
    await waitFor(() => store.stats().cache_points === 0, 'written again');
    assert.deepEqual((await store.find('srv.*')).map((n) => n.path), ['srv.a', 'srv.b', 'srv.c']);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
