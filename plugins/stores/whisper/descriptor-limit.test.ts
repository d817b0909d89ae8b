// The persist thread keeps files open between updates, up to a share of the descriptor limit it
// reads at start. When the limit turns out lower than that (an operator's `prlimit`, or sockets
// taking more than their share), opens fail with EMFILE: the thread must let its own files go and
// go on, so that every point still reaches its file and the process keeps accepting connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, portOf, waitFor } from '../../../test/helpers/carbonado.js';
import { fetchWhisper, readHeader } from '../../shared/whisper-format/index.js';
import { requireHere } from '../../../test/helpers/peers.js';

const SERIES = 1500;
const POINTS = 4;

function hasPrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sendLines(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

test('descriptor limit lowered under a running store: EMFILE lets the kept files go, every point reaches its file, connections are still accepted', async (t) => {
  if (!requireHere(t, process.platform === 'linux' && hasPrlimit(), 'Linux with prlimit (util-linux)')) return;
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-emfile-'));
  const base = Math.floor(Date.now() / 1000) - 600;
  const proc = await spawnCarbonado({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir: dir, persistThreads: 1, schemas: [{ name: 't', pattern: '.*', retentions: '1s:2h' }] } },
    outputs: { render: { type: 'graphite_render' } },
  });
  let exit: number | null = null;
  try {
    const port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
    // the store sized its budget of open files from the limit at start; leave it 80 descriptors
    // above what the process holds now, far fewer than the files it is about to write
    const inUse = (await readdir(`/proc/${proc.pid}/fd`)).length;
    const limit = inUse + 80;
    execFileSync('prlimit', ['--pid', String(proc.pid), `--nofile=${limit}:${limit}`]);

    const lines: string[] = [];
    for (let p = 0; p < POINTS; p++) for (let s = 0; s < SERIES; s++) lines.push(`emfile.s${s} ${s + p} ${base + p}\n`);
    // in rounds, so that files are created, kept open, then updated while the table is full
    const perRound = SERIES;
    for (let i = 0; i < lines.length; i += perRound) {
      await sendLines(port, lines.slice(i, i + perRound).join(''));
      await new Promise((r) => setTimeout(r, 300));
    }
    const store = async () => ((await (await fetch(`${proc.httpUrl}/stats`)).json()) as { instances: Record<string, { received: number; gauges: Record<string, number> }> }).instances['stores.main']!;
    await waitFor(async () => (await store()).received === SERIES * POINTS, 'every point accepted', 20_000, 200);
    await waitFor(async () => (await store()).gauges.cache_points === 0, 'the cache written out', 60_000, 200);

    // the process still has descriptors for new connections: a render, and more points
    const res = await fetch(`${proc.httpUrl}/render?target=emfile.s7&from=${base - 1}&until=${base + POINTS}&format=json`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>;
    assert.deepEqual(body[0]!.datapoints.filter(([v]) => v !== null).map(([v]) => v), [7, 8, 9, 10]);
    await sendLines(port, `emfile.after 1 ${base}\n`);
    await waitFor(async () => (await store()).received === SERIES * POINTS + 1, 'a point over a new connection', 10_000, 100);
  } finally {
    proc.kill('SIGTERM');
    exit = await proc.exited;
  }
  try {
    assert.equal(exit, 0, proc.output().slice(-2000));
    const now = Math.floor(Date.now() / 1000);
    let complete = 0;
    for (let s = 0; s < SERIES; s++) {
      const f = join(dir, 'emfile', `s${s}.wsp`);
      const fh = await open(f, 'r');
      try {
        const r = (await fetchWhisper(fh, await readHeader(fh, f), base - 1, base + POINTS - 1, now))!;
        if ([...r.values].every((v, p) => v === s + p)) complete++;
      } finally {
        await fh.close();
      }
    }
    assert.equal(complete, SERIES, 'series with every point in their file');
    assert.ok((await readdir(join(dir, 'emfile'))).includes('after.wsp'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
