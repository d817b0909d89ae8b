import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePeer, hasPythonModule, hasCommand, DEBIAN_PYTHON } from '../../../test/helpers/peers.js';
import {
  AGGREGATION_METHODS,
  createWhisper,
  fetchWhisper,
  readHeader,
  updateMany,
  validateArchiveList,
  InvalidConfiguration,
  type AggregationMethod,
  type ArchiveSpec,
} from './index.js';

const DRIVER = fileURLToPath(new URL('./testdata/pywhisper.py', import.meta.url));
const havePy = hasPythonModule('whisper');

interface Call {
  now: number;
  points: Array<[number, number]>;
}
interface Fetch {
  from: number;
  until: number;
  now: number;
}
type FetchOut = [[number, number, number], Array<number | null>] | null;

function python(scenario: object): { fetches: FetchOut[] } {
  const r = spawnSync(DEBIAN_PYTHON, [DRIVER], { input: JSON.stringify(scenario), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function ours(path: string, archives: ArchiveSpec[], xff: number, method: AggregationMethod, calls: Call[], fetches: Fetch[], create = true): Promise<FetchOut[]> {
  if (create) await createWhisper(path, archives, { xFilesFactor: xff, aggregationMethod: method });
  const fh = await open(path, 'r+');
  try {
    const header = await readHeader(fh, path);
    for (const c of calls) {
      await updateMany(fh, header, c.points.map((p) => p[0]), c.points.map((p) => p[1]), c.points.length, c.now);
    }
    const out: FetchOut[] = [];
    for (const f of fetches) {
      const r = await fetchWhisper(fh, header, f.from, f.until, f.now);
      out.push(r ? [[r.start, r.end, r.step], [...r.values].map((v) => (Number.isNaN(v) ? null : v))] : null);
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** small deterministic PRNG so failures reproduce */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A random update sequence: out of order, duplicates, future and too-old points, wrap-around. */
function scenario(seed: number, archives: ArchiveSpec[]): { calls: Call[]; fetches: Fetch[] } {
  const r = rng(seed);
  const maxRet = Math.max(...archives.map(([s, p]) => s * p));
  const r0 = archives[0]![0] * archives[0]![1];
  let now = 1_700_000_000 + Math.floor(r() * 1000);
  const calls: Call[] = [];
  for (let c = 0; c < 12; c++) {
    now += Math.floor(r() * archives[0]![0] * 40);
    const n = 1 + Math.floor(r() * 40);
    const points: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const kind = r();
      let ts: number;
      if (kind < 0.05) ts = now + Math.floor(r() * r0 * 0.4); // future, but no run longer than archive 0 (see update.ts)
      else if (kind < 0.1) ts = now - maxRet - Math.floor(r() * 1000); // too old
      else if (kind < 0.3) ts = now - r0 - Math.floor(r() * (maxRet - r0)); // a coarser archive
      else ts = now - Math.floor(r() * r0 * 0.5); // recent
      if (r() < 0.3) ts += 0.7; // fractional: truncated
      const v = r() < 0.2 ? 0 - Math.floor(r() * 100) : Math.round(r() * 10000) / 100;
      points.push([ts, v]);
      if (r() < 0.1) points.push([ts, v + 1]); // duplicate raw timestamp
    }
    calls.push({ now, points });
  }
  const fetches: Fetch[] = [];
  for (let i = 0; i < 8; i++) {
    const from = now - Math.floor(r() * maxRet * 1.2);
    fetches.push({ from, until: Math.min(now, from + Math.floor(r() * maxRet)), now });
  }
  fetches.push({ from: now - 1, until: now, now }, { from: now - maxRet, until: now, now });
  return { calls, fetches };
}

const dir = await mkdtemp(join(tmpdir(), 'carbonado-wsp-'));
test.after(() => (process.env.KEEP ? undefined : rm(dir, { recursive: true, force: true })));

test('validateArchiveList applies whisper rules', () => {
  assert.deepEqual(validateArchiveList([[60, 20], [10, 60]]), [[10, 60], [60, 20]]);
  assert.throws(() => validateArchiveList([]), InvalidConfiguration);
  assert.throws(() => validateArchiveList([[60, 10], [60, 20]]), /same precision/);
  assert.throws(() => validateArchiveList([[60, 100], [90, 100]]), /evenly divide/);
  assert.throws(() => validateArchiveList([[60, 100], [120, 50]]), /larger time intervals/);
  assert.throws(() => validateArchiveList([[10, 5], [60, 100]]), /enough points/);
  // what the 32-bit header fields hold (whisper fails at create with struct.error)
  assert.deepEqual(validateArchiveList([[1, 0xffffffff]]), [[1, 0xffffffff]]);
  assert.throws(() => validateArchiveList([[60, 1440], [86400, 73000]]), /retention of 6307200000 seconds .* more than a whisper header holds/);
  assert.throws(() => validateArchiveList([[1, 400_000_000], [10, 400_000_000]]), /over 4 GiB .* byte 4800000040/);
});

test('the create example of the reference has the documented header bytes', async () => {
  const p = join(dir, 'example.wsp');
  await createWhisper(p, [[60, 1440], [300, 2016]], { xFilesFactor: 0.5, aggregationMethod: 'average' });
  const b = await readFile(p);
  assert.equal(b.length, 41512);
  assert.equal(b.subarray(0, 40).toString('hex'), '0000000100093a803f000000000000020000002800' + '00003c000005a0000043a80000012c000007e0');
});

const shapes: Array<{ archives: ArchiveSpec[]; xff: number }> = [
  { archives: [[10, 30], [60, 20], [600, 10]], xff: 0.5 },
  { archives: [[1, 20], [5, 12], [60, 6]], xff: 0.4 },
  { archives: [[60, 5], [300, 4]], xff: 0.6 },
  { archives: [[10, 12], [60, 12]], xff: 0 },
  { archives: [[10, 50]], xff: 1 },
];

for (const method of AGGREGATION_METHODS) {
  test(`byte-identical to python whisper and same fetch: ${method}`, async (t) => {
    if (!requirePeer(t, havePy, 'python3-whisper')) return;
    let seed = AGGREGATION_METHODS.indexOf(method) * 100;
    for (const { archives, xff } of shapes) {
      for (let rep = 0; rep < 3; rep++) {
        const { calls, fetches } = scenario(++seed, archives);
        const pyPath = join(dir, `${method}-${seed}-py.wsp`);
        const ourPath = join(dir, `${method}-${seed}-ours.wsp`);
        const py = python({ path: pyPath, archives, xff, method, calls, fetches });
        const mine = await ours(ourPath, archives, xff, method, calls, fetches);
        const [a, b] = await Promise.all([readFile(pyPath), readFile(ourPath)]);
        assert.ok(a.equals(b), `files differ (method ${method}, seed ${seed}, archives ${JSON.stringify(archives)})`);
        assert.deepEqual(mine, py.fetches, `fetch differs (seed ${seed})`);
      }
    }
  });
}

test('xFilesFactor edge: 2 of 5 known does not propagate at 0.5, 3 of 5 does', async (t) => {
  if (!requirePeer(t, havePy, 'python3-whisper')) return;
  const now = 1_700_000_000;
  const base = now - (now % 300) - 300;
  const archives: ArchiveSpec[] = [[60, 60], [300, 20]];
  for (const known of [2, 3]) {
    const points: Array<[number, number]> = [];
    for (let i = 0; i < known; i++) points.push([base + i * 60, 1]);
    const calls = [{ now, points }];
    const fetches = [{ from: now - 3599, until: now, now }, { from: now - 5000, until: now, now }];
    const pyPath = join(dir, `xff-${known}-py.wsp`);
    const ourPath = join(dir, `xff-${known}-ours.wsp`);
    const py = python({ path: pyPath, archives, xff: 0.5, method: 'sum', calls, fetches });
    const mine = await ours(ourPath, archives, 0.5, 'sum', calls, fetches);
    assert.deepEqual(mine, py.fetches);
    assert.ok((await readFile(pyPath)).equals(await readFile(ourPath)));
    const coarse = mine[1]![1];
    const slot = (base - mine[1]![0][0]) / 300;
    assert.equal(coarse[slot], known === 3 ? 3 : null);
  }
});

test('updateMany refuses timestamps whisper cannot store, and writes nothing', async () => {
  const p = join(dir, 'range.wsp');
  await createWhisper(p, [[60, 10]], { xFilesFactor: 0, aggregationMethod: 'last' });
  const before = await readFile(p);
  const fh = await open(p, 'r+');
  try {
    const header = await readHeader(fh, p);
    // 2^32 + 60 would wrap to 44 if written as an unsigned 32-bit interval
    for (const bad of [2 ** 32 + 60, -60, Number.NaN]) {
      await assert.rejects(updateMany(fh, header, [1000, bad], [1, 2], 2, 1000), RangeError);
    }
    assert.ok((await readFile(p)).equals(before));
    await updateMany(fh, header, [2 ** 32 - 1], [3], 1, 2 ** 32 - 1);
  } finally {
    await fh.close();
  }
  const after = await readFile(p);
  assert.ok(!after.equals(before));
  assert.equal(after.readUInt32BE(after.length - 120), 2 ** 32 - 1 - ((2 ** 32 - 1) % 60));
});

test('files written by python whisper read identically here', async (t) => {
  if (!requirePeer(t, havePy, 'python3-whisper')) return;
  for (const [i, { archives, xff }] of shapes.entries()) {
    const { calls, fetches } = scenario(9000 + i, archives);
    const p = join(dir, `pyonly-${i}.wsp`);
    const py = python({ path: p, archives, xff, method: 'max', calls, fetches });
    const mine = await ours(p, archives, xff, 'max', [], fetches, false);
    assert.deepEqual(mine, py.fetches);
  }
});

test('whisper-info, whisper-fetch and whisper-dump read our files', async (t) => {
  if (!requirePeer(t, havePy && hasCommand('whisper-fetch'), 'python3-whisper')) return;
  const p = join(dir, 'cli.wsp');
  const now = Math.floor(Date.now() / 1000);
  const t0 = now - (now % 60) - 600;
  const points: Array<[number, number]> = [];
  for (let i = 0; i < 10; i++) points.push([t0 + i * 60, i * 1.5]);
  await ours(p, [[60, 100], [300, 100]], 0.3, 'max', [{ now, points }], []);
  const info = spawnSync(DEBIAN_PYTHON, ['/usr/bin/whisper-info', '--json', p], { encoding: 'utf8' });
  const hdr = JSON.parse(info.stdout);
  assert.equal(hdr.aggregationMethod, 'max');
  assert.equal(hdr.xFilesFactor, Math.fround(0.3));
  assert.deepEqual(hdr.archives.map((a: { secondsPerPoint: number; points: number }) => [a.secondsPerPoint, a.points]), [[60, 100], [300, 100]]);
  const fetched = spawnSync(DEBIAN_PYTHON, ['/usr/bin/whisper-fetch', '--json', `--from=${t0 - 1}`, `--until=${t0 + 599}`, p], { encoding: 'utf8' });
  const j = JSON.parse(fetched.stdout);
  assert.deepEqual(j.values, points.map((x) => x[1]));
  const dump = spawnSync(DEBIAN_PYTHON, ['/usr/bin/whisper-dump', p], { encoding: 'utf8' });
  assert.match(dump.stdout, /aggregation method: max/);
  assert.match(dump.stdout, new RegExp(`0: ${t0},\\s+0\\n`));
  assert.match(dump.stdout, new RegExp(`9: ${t0 + 540},\\s+13.5\\n`));
});

test('a roll-up of NaNs of either sign writes the NaN Python whisper writes (sum, average, avg_zero)', async (t) => {
  if (!requirePeer(t, havePy, 'python3-whisper')) return;
  const now = 1_700_000_100;
  const nan = (bits: string): number => Buffer.from(bits, 'hex').readDoubleBE(0);
  // +NaN, -NaN in one 300 s window, and -NaN, +NaN in the next; then a NaN after a number
  const points: Array<[number, string]> = [[now - 300, '7ff8000000000000'], [now - 240, 'fff8000000000000'], [now - 600, 'fff8000000000000'], [now - 540, '7ff8000000000000'], [now - 900, '3ff0000000000000'], [now - 840, 'fff8000000000000']];
  for (const method of ['sum', 'average', 'avg_zero'] as const) {
    const [a, b] = [join(dir, `nan-a-${method}.wsp`), join(dir, `nan-b-${method}.wsp`)];
    await createWhisper(a, [[60, 30], [300, 10]], { xFilesFactor: 0, aggregationMethod: method });
    const fh = await open(a, 'r+');
    try {
      const values = new Float64Array(points.map((p) => nan(p[1])));
      await updateMany(fh, await readHeader(fh, a), points.map((p) => p[0]), values, points.length, now);
    } finally {
      await fh.close();
    }
    const py = `import struct, whisper
whisper.create(${JSON.stringify(b)}, [(60, 30), (300, 10)], 0, ${JSON.stringify(method)})
pts = [${points.map(([ts, bits]) => `(${ts}, struct.unpack('!d', bytes.fromhex('${bits}'))[0])`).join(', ')}]
whisper.update_many(${JSON.stringify(b)}, pts, now=${now})`;
    const r = spawnSync(DEBIAN_PYTHON, ['-c', py], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await readFile(a)).toString('hex'), (await readFile(b)).toString('hex'), method);
  }
});
