import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtemp, open, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, portOf, waitFor, type Spawned } from '../../../test/helpers/carbonado.js';
import { fetchWhisper, readHeader } from '../../shared/whisper-format/index.js';

interface StoreStats {
  received: number;
  counters: Record<string, number>;
  errors: Record<string, number>;
  gauges: Record<string, number>;
}

async function storeStats(httpUrl: string): Promise<StoreStats> {
  const st = (await (await fetch(`${httpUrl}/stats`)).json()) as { instances: Record<string, StoreStats> };
  return st.instances['stores.main']!;
}

function send(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

/** The values of the finest archive in (from, until], or undefined when the file cannot be read. */
async function valuesOf(path: string, from: number, until: number): Promise<Array<number | null> | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const h = await readHeader(fh, path);
    const r = (await fetchWhisper(fh, h, from, until, Math.floor(Date.now() / 1000)))!;
    return Array.from(r.values, (v) => (v === null || Number.isNaN(v) ? null : v));
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * What a power loss can leave after a create: the new name is on disk but the file's blocks are
 * not (empty, or the right size and all zeros). The WAL still holds the points, so a restart must
 * set such a file aside and create the series again with every point; a file with a damaged but
 * non-blank header is a different case and is never touched.
 */
test('a file left empty or zero-filled by a power loss is set aside and recreated from the WAL; a damaged header is left alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-torn-'));
  const config = {
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    outputs: { graphite: { type: 'graphite_render' } },
    stores: {
      main: {
        type: 'whisper',
        dataDir: dir,
        // the WAL keeps every segment for the test's length, as it would for points whose files were never synced
        walSegmentSecs: 3600,
        writeCoalesceMs: 0,
        schemas: [{ name: 't', pattern: '.*', retentions: '10s:1d' }],
        aggregation: [{ name: 't', pattern: '.*', xFilesFactor: 0, aggregationMethod: 'average' }],
      },
    },
  };
  const base = Math.floor(Date.now() / 1000 / 10) * 10 - 600;
  const lines = (names: string[], from: number, to: number): string =>
    names.flatMap((n) => Array.from({ length: to - from }, (_, k) => `${n} ${from + k + 1} ${base + (from + k) * 10}\n`)).join('');
  const names = ['torn.empty', 'torn.zeroed', 'torn.damaged', 'torn.fine'];
  const file = (n: string): string => join(dir, ...n.split('.')) + '.wsp';
  const expected = [1, 2, 3, 4, 5, 6];

  let proc: Spawned = await spawnCarbonado(config);
  try {
    let port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
    await send(port, lines(names, 0, 3));
    for (const n of names) await waitFor(async () => (await valuesOf(file(n), base - 10, base + 20))?.[2] === 3, `${n} written`, 10_000);
    // accepted (in the cache and the WAL), then the machine "loses power"
    await send(port, lines(names, 3, 6));
    await waitFor(async () => (await storeStats(proc.httpUrl)).received >= names.length * 6, 'second half accepted', 10_000);
    await new Promise((r) => setTimeout(r, 600)); // > walFlushIntervalMs: the WAL has it
    proc.kill('SIGKILL');
    await proc.exited;

    const zeroedSize = (await stat(file('torn.zeroed'))).size;
    await truncate(file('torn.empty'), 0);
    await writeFile(file('torn.zeroed'), Buffer.alloc(zeroedSize));
    const damaged = await readFile(file('torn.damaged'));
    damaged.write('not whisper!', 0, 'latin1');
    await writeFile(file('torn.damaged'), damaged);

    proc = await spawnCarbonado(config);
    port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
    for (const n of ['torn.empty', 'torn.zeroed', 'torn.fine']) {
      await waitFor(async () => JSON.stringify(await valuesOf(file(n), base - 10, base + 50)) === JSON.stringify(expected), `${n} has all six points`, 15_000);
    }
    const st = await storeStats(proc.httpUrl);
    assert.equal(st.errors.torn_file, 2, 'two torn files counted');
    assert.ok((st.errors.corrupt_file ?? 0) >= 1, 'the damaged file counted as corrupt');

    // the blank files are kept beside the series for the operator, with their bytes
    const entries = await readdir(join(dir, 'torn'));
    const aside = (n: string): string[] => entries.filter((e) => e.startsWith(`${n}.wsp.torn-`));
    assert.equal(aside('empty').length, 1, `aside files: ${entries.join(' ')}`);
    assert.equal(aside('zeroed').length, 1, `aside files: ${entries.join(' ')}`);
    assert.equal((await stat(join(dir, 'torn', aside('empty')[0]!))).size, 0);
    assert.deepEqual(await readFile(join(dir, 'torn', aside('zeroed')[0]!)), Buffer.alloc(zeroedSize));
    // the damaged header is never rewritten, and nothing else was set aside
    assert.deepEqual(await readFile(file('torn.damaged')), damaged);
    assert.equal(entries.filter((e) => e.includes('.torn-')).length, 2);

    // Graphite sees the recreated series and not the files set aside
    const found = (await (await fetch(`${proc.httpUrl}/metrics/find?query=torn.*`)).json()) as Array<{ text: string }>;
    assert.deepEqual(found.map((f) => f.text).sort(), ['damaged', 'empty', 'fine', 'zeroed']);
    assert.equal((await storeStats(proc.httpUrl)).gauges.torn_files_aside, 2);

    // the next start reminds the operator of what is still set aside
    proc.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output());
    proc = await spawnCarbonado(config);
    assert.match(proc.output(), /whisper files set aside after torn creates are still in the data directory.*count=2/);
    assert.equal((await storeStats(proc.httpUrl)).gauges.torn_files_aside, 2);
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
});
