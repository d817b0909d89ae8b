import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInProcess, portOf, waitFor } from '../../../test/helpers/carbonado.js';
import { DEBIAN_PYTHON, hasCommand, hasPythonModule, requirePeer } from '../../../test/helpers/peers.js';
import { pointBatch } from '../../../core/index.js';
import type { WhisperStore } from './whisper-store.js';

/** graphite-web 1.1.8's own finder over a directory (the name-index tests' driver) */
const GW_FIND = fileURLToPath(new URL('../../shared/name-index/testdata/gwfind.py', import.meta.url));

// Operators change files under a running carbon with whisper's own tools; carbon-cache reads the
// header on every update, so the change takes effect at once. carbonado keeps files open: it must
// notice a file replaced by rename (whisper-resize) or a header rewritten in place
// (whisper-set-aggregation-method) before its next write.

function send(port: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(lines.map((l) => `${l}\n`).join('')));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

function tool(name: string, args: string[]): string {
  const r = spawnSync(DEBIAN_PYTHON, [`/usr/bin/${name}`, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  return r.stdout;
}

/** whisper-fetch's values (null for gaps) over (from, until], read straight from the file. */
function fetchValues(file: string, from: number, until: number): Array<number | null> {
  const out = JSON.parse(tool('whisper-fetch', ['--json', `--from=${from}`, `--until=${until}`, file])) as { values: Array<number | null> };
  return out.values;
}

/** The 60 s archive's value at `t` (whisper-fetch picks that archive for a from older than 1 h). */
function minuteSlot(file: string, t: number, now: number): number | null {
  const out = JSON.parse(tool('whisper-fetch', ['--json', `--from=${now - 7200}`, `--until=${now}`, file])) as { start: number; step: number; values: Array<number | null> };
  assert.equal(out.step, 60);
  return out.values[(t - out.start) / 60] ?? null;
}

test('whisper-resize, whisper-set-aggregation-method and rm on a running carbonado take effect at the next write', async (t) => {
  if (!requirePeer(t, hasCommand('whisper-resize') && existsSync('/usr/bin/whisper-set-aggregation-method'), 'python3-whisper')) return;
  const dataDir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-tools-'));
  const c = await startInProcess({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir, writeCoalesceMs: 0, schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1h,60s:1d' }] } },
  });
  const port = portOf(c.listening('inputs.carbon'), 'tcp').port;
  const file = (n: string) => join(dataDir, ...n.split('.')) + '.wsp';
  const onDisk = async (n: string, from: number, until: number, want: Array<number | null>) =>
    waitFor(() => existsSync(file(n)) && JSON.stringify(fetchValues(file(n), from, until)) === JSON.stringify(want), `${n} on disk: ${JSON.stringify(want)}`, 10_000, 100);
  try {
    const now = Math.floor(Date.now() / 1000);
    const t0 = now - (now % 60) - 600; // a whole minute, ten minutes back
    await send(port, [`tools.resized 1 ${t0}`, `tools.method 1 ${t0}`]);
    await onDisk('tools.resized', t0 - 10, t0, [1]);
    await onDisk('tools.method', t0 - 10, t0, [1]);

    // replaced by rename (the old file kept as .bak): the next points must go to the new file
    tool('whisper-resize', [file('tools.resized'), '10s:2h', '60s:1d']);
    await send(port, [`tools.resized 2 ${t0 + 10}`]);
    await onDisk('tools.resized', t0 - 10, t0 + 10, [1, 2]);
    assert.equal(tool('whisper-info', [file('tools.resized')]).match(/maxRetention: (\d+)/)![1], '86400');

    // aggregation method rewritten in place: the next propagation uses it (max instead of average)
    tool('whisper-set-aggregation-method', [file('tools.method'), 'max']);
    await send(port, [`tools.method 5 ${t0 + 10}`]);
    // the 60 s slot at t0 rolls up 1 and 5: max gives 5, the old average 3
    await waitFor(() => minuteSlot(file('tools.method'), t0, now) === 5, 'the 60 s slot rolled up with max', 10_000, 100);

    // deleted by the operator: created again at the next write, as carbon does
    await rm(file('tools.resized'));
    await send(port, [`tools.resized 3 ${t0 + 20}`]);
    await onDisk('tools.resized', t0 + 10, t0 + 20, [3]);
    const own = c.stats().instances['stores.main']!;
    assert.equal(own.counters.files_removed, 1);
    assert.deepEqual(own.errors, {}, 'a removed file is not an error');
  } finally {
    await c.stop();
  }
});

test("graphite-web's finder on a running carbonado's tree lists the series and nothing of carbonado's own", async (t) => {
  if (!requirePeer(t, hasPythonModule('graphite.finders'), 'graphite-web')) return;
  const dataDir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-gwfind-'));
  const c = await startInProcess({ stores: { main: { type: 'whisper', dataDir, schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1h' }] } } });
  const store = c.runtime.instance<WhisperStore>('stores.main')!;
  try {
    const now = Math.floor(Date.now() / 1000);
    store.write(pointBatch([['srv.a.cpu', 1, now - 20], ['srv.b.cpu', 2, now - 20], ['app.x;env=prod', 3, now - 20]]));
    await waitFor(() => store.stats().cache_points === 0 && store.stats().series_on_disk === 3, 'written');
    // the store's own directories are there while it runs: the WAL and the create staging area
    assert.ok(existsSync(join(dataDir, '.carbonado-wal')) && existsSync(join(dataDir, '.carbonado-staging')));
    const patterns = ['*', '*.*', '*.*.*', '*.*.*.*', '_tagged.*.*.*'];
    const r = spawnSync(DEBIAN_PYTHON, [GW_FIND, dataDir], { input: JSON.stringify(patterns), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(r.stdout) as Array<Array<[string, boolean]>>;
    for (const [i, p] of patterns.entries()) {
      const ours = (await store.find(p)).map((n) => [n.path, n.isLeaf]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      assert.deepEqual(ours, expected[i], p);
    }
  } finally {
    await c.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
