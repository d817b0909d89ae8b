import { test } from 'node:test';
import { packResults, unpackResults, type ReadResult } from './read-protocol.js';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess } from '../../../test/helpers/carbonado.js';
import { createWhisper, fetchWhisper, readHeader, updateMany, type ArchiveSpec } from '../../shared/whisper-format/index.js';
import { WhisperReader } from './read-file.js';
import { ReadPool } from './reader.js';
import type { WhisperStore } from './whisper-store.js';

const NOW = 1_700_000_000;

async function tmp(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `carbonado-reader-${prefix}-`));
}

function columns(points: Array<[number, number]>): [number[], number[]] {
  return [points.map((p) => p[0]), points.map((p) => p[1])];
}

async function makeFile(path: string, archives: ArchiveSpec[], points: Array<[number, number]>, now = NOW): Promise<void> {
  await createWhisper(path, archives, { xFilesFactor: 0.5, aggregationMethod: 'sum' });
  const fh = await open(path, 'r+');
  try {
    const h = await readHeader(fh, path);
    await updateMany(fh, h, points.map((p) => p[0]), points.map((p) => p[1]), points.length, now);
  } finally {
    await fh.close();
  }
}

test('the sync reader answers exactly as fetchWhisper: windows, wrap, coarse archive, out of range, never written', async () => {
  const dir = await tmp('same');
  try {
    const wrapped = join(dir, 'wrapped.wsp');
    // 10 s × 60 slots: 150 points lap the archive more than twice; gaps leave stale slots behind
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < 150; i++) if (i % 7 !== 3) pts.push([NOW - 1500 + i * 10, i * 1.5 - 20]);
    await makeFile(wrapped, [[10, 60], [60, 60]], pts);
    const empty = join(dir, 'empty.wsp');
    await createWhisper(empty, [[10, 60], [60, 60]]);
    const windows: Array<[number, number, number]> = [
      [NOW - 600, NOW, NOW],
      [NOW - 300, NOW - 100, NOW],
      [NOW - 595, NOW - 7, NOW],
      [NOW - 3600, NOW, NOW],
      [NOW - 2000, NOW - 900, NOW],
      [NOW - 100, NOW - 100, NOW],
      [NOW + 10, NOW + 100, NOW],
      [NOW - 9000, NOW - 8000, NOW],
      [NOW - 600, NOW + 600, NOW],
      [NOW - 600, NOW, NOW + 400],
    ];
    const reader = new WhisperReader();
    for (const path of [wrapped, empty]) {
      const fh = await open(path, 'r');
      const h = await readHeader(fh, path);
      for (const [from, until, now] of windows) {
        const want = await fetchWhisper(fh, h, from, until, now);
        const got = reader.read(path, from, until, now);
        const at = `${path} ${from - NOW}..${until - NOW} now ${now - NOW}`;
        if (!want) {
          assert.deepEqual(got, { ok: false, code: 'none' }, at);
          continue;
        }
        assert.ok(got.ok, at);
        assert.deepEqual([got.start, got.end, got.step], [want.start, want.end, want.step], at);
        assert.deepEqual([...got.values], [...want.values], at);
        assert.deepEqual([got.aggregationMethod, got.xFilesFactor, got.rawStep], [h.aggregationMethod, h.xFilesFactor, 10], at);
      }
      await fh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads longer than one piece (65,536 points), wrapping around the ring, answer exactly as fetchWhisper; past maxValues the file is not read', async () => {
  const dir = await tmp('long');
  try {
    const path = join(dir, 'long.wsp');
    const SLOTS = 140_000;
    // 1 s × 140,000 slots; 120,000 s written, then 70,000 s more after a 10,000 s hole: the ring
    // has lapped, and the hole's slots hold nothing or stale points (two runs: quick to write)
    const run = (from: number, n: number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [from + i, ((from + i) % 1000) - 500.25]);
    await makeFile(path, [[1, SLOTS]], run(NOW - 200_000, 120_000), NOW - 80_000);
    {
      const fh = await open(path, 'r+');
      await updateMany(fh, await readHeader(fh, path), ...columns(run(NOW - 70_000, 70_000)), 70_000, NOW);
      await fh.close();
    }
    const fh = await open(path, 'r');
    const h = await readHeader(fh, path);
    const reader = new WhisperReader();
    let gaps = 0;
    try {
      for (const [from, until] of [[NOW - SLOTS, NOW], [NOW - 139_000, NOW - 60_000], [NOW - 70_000, NOW - 1], [NOW - 131_073, NOW - 1]]) {
        const want = (await fetchWhisper(fh, h, from!, until!, NOW))!;
        const got = reader.read(path, from!, until!, NOW);
        assert.ok(got.ok);
        assert.deepEqual([got.start, got.end, got.step], [want.start, want.end, want.step]);
        assert.ok(got.values.length > 65_536, `${got.values.length} points`);
        // element by element (deepEqual over arrays this long takes seconds); NaN equals NaN
        const differs = got.values.findIndex((v, i) => !Object.is(v, want.values[i]));
        assert.equal(differs, -1, `${from! - NOW}..${until! - NOW}: first difference at ${differs}`);
        if (got.values.some((v) => Number.isNaN(v))) gaps++;
      }
      assert.equal(gaps, 3, 'the three windows over the hole read it empty');
      assert.deepEqual(reader.read(path, NOW - 1000, NOW, NOW, 999), { ok: false, code: 'too_large', name: 'FetchTooLarge', message: '1000 values', points: 1000 });
      assert.ok(reader.read(path, NOW - 1000, NOW, NOW, 1000).ok);
    } finally {
      await fh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the read pool: results in order across threads, missing and corrupt files reported, not thrown', async () => {
  const dir = await tmp('pool');
  const pool = new ReadPool(() => assert.fail('no worker error expected'), 2);
  try {
    const paths: string[] = [];
    for (let i = 0; i < 150; i++) {
      const p = join(dir, `s${i}.wsp`);
      await makeFile(p, [[10, 60]], [[NOW - 100, i]]);
      paths.push(p);
    }
    await writeFile(join(dir, 'bad.wsp'), Buffer.from('00000001000000640000000000000001000000280000000a', 'hex'));
    const all = [...paths.slice(0, 70), join(dir, 'missing.wsp'), join(dir, 'bad.wsp'), ...paths.slice(70)];
    const got = await pool.read(all, NOW - 600, NOW, NOW);
    assert.equal(got.length, all.length);
    const values = got.filter((r) => r.ok).map((r) => (r.ok ? r.values[(NOW - 100 - r.start) / r.step] : NaN));
    assert.deepEqual(values, paths.map((_, i) => i));
    assert.equal(got[70]!.ok === false && got[70]!.code, 'ENOENT');
    assert.equal(got[71]!.ok === false && got[71]!.code, 'corrupt');
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file replaced by rename is read anew: new values and new header, no stale descriptor or header', async () => {
  const dir = await tmp('rename');
  await mkdir(join(dir, 'srv'), { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  const path = join(dir, 'srv', 'a.wsp');
  await makeFile(path, [[10, 360]], [[now - 30, 1]], now);
  const c = await startInProcess({ stores: { main: { type: 'whisper', dataDir: dir, durability: 'none' } }, query: { store: 'main' } });
  const store = c.runtime.instance<WhisperStore>('stores.main')!;
  try {
    const [a] = await store.fetch(['srv.a'], now - 300, now);
    assert.equal(a!.step, 10);
    assert.equal(a!.values[(now - 30 - (now - 30) % 10 - a!.start) / 10], 1);
    // what whisper-resize or a restore does: a different file renamed over the old one
    const next = join(dir, 'srv', '.a.wsp.new');
    await makeFile(next, [[60, 120]], [[now - 120, 2]], now);
    await rename(next, path);
    const [b] = await store.fetch(['srv.a'], now - 300, now);
    assert.equal(b!.step, 60);
    assert.equal(b!.consolidation, 'sum');
    assert.equal(b!.values[(now - 120 - (now - 120) % 60 - b!.start) / 60], 2);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('read results survive the column-wise trip: ok (values in place), none, failed, in order', () => {
  const results: ReadResult[] = [
    { ok: true, start: 10, end: 40, step: 10, values: Float64Array.from([1, NaN, 3]), aggregationMethod: 'max', xFilesFactor: 0.25, rawStep: 10 },
    { ok: false, code: 'none' },
    { ok: false, code: 'ENOENT', name: 'Error', message: 'no such file' },
    { ok: true, start: 60, end: 180, step: 60, values: Float64Array.from([7, 8]), aggregationMethod: 'absmin', xFilesFactor: 0, rawStep: 10 },
    { ok: true, start: 0, end: 10, step: 10, values: new Float64Array(0), aggregationMethod: 'average', xFilesFactor: 1, rawStep: 10 },
  ];
  const { columns, transfer } = packResults(results);
  assert.equal(transfer.length, 9);
  assert.deepEqual(unpackResults(structuredClone(columns, { transfer })), results);
});
