import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, portOf, waitFor, REPO_ROOT } from '../helpers/carbonado.js';

const MISBEHAVING = join(REPO_ROOT, 'test/fixtures/plugins/misbehaving-output.mjs');

function send(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

interface Stats {
  instances: Record<string, { received: number; errors: Record<string, number>; gauges: Record<string, number> }>;
  process: Record<string, number>;
}

test('a third-party plugin whose listeners throw, reject and unsubscribe everyone cannot stop the data or the process', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'carbonado-misbehaving-'));
  const c = await spawnCarbonado({
    plugins: [MISBEHAVING],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { wsp: { type: 'whisper', dataDir, schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1d' }] } },
    outputs: { api: { type: 'graphite_render' }, bad: { type: 'misbehaving' } },
  });
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    const now = Math.floor(Date.now() / 1000 / 10) * 10;
    for (let round = 0; round < 3; round++) {
      await send(port, Array.from({ length: 500 }, (_, i) => `mis.s${i % 5} ${round * 1000 + i} ${now - 600 + round * 10}\n`).join(''));
    }
    const stats = async (): Promise<Stats> => (await (await fetch(`${c.httpUrl}/stats`)).json()) as Stats;
    const s = await waitFor(async () => {
      const x = await stats();
      return x.instances['stores.wsp']!.received === 1500 && x.process.unhandled_rejections === 1 ? x : undefined;
    }, 'every point at the store and the floating rejection counted');
    const bad = s!.instances['outputs.bad']!;
    const calls = bad.gauges.listener_calls!;
    assert.ok(calls >= 2, `the plugin's listeners ran (${calls})`);
    assert.equal(bad.errors.listener_threw, calls, 'every throw and every rejection counted under the plugin');
    const r = await fetch(`${c.httpUrl}/render?target=mis.s3&from=${now - 700}&until=${now}&format=json`);
    const [series] = (await r.json()) as Array<{ datapoints: Array<[number | null, number]> }>;
    const values = series!.datapoints.filter(([v]) => v !== null).map(([v]) => v);
    assert.deepEqual(values, [498, 1498, 2498], 'the last point of each round per slot');
    assert.match(c.output(), /listener threw/);
    assert.match(c.output(), /unhandled promise rejection/);
  } finally {
    c.kill('SIGTERM');
  }
  assert.equal(await c.exited, 0, c.output());
});

test('an uncaught exception drains the stores before the process exits 1: points held in memory reach the files', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'carbonado-uncaught-'));
  const c = await spawnCarbonado({
    plugins: [MISBEHAVING],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    // no WAL, and one create a minute: all but one series can only reach the disk by the drain
    stores: { wsp: { type: 'whisper', dataDir, durability: 'none', maxCreatesPerMinute: 1, schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1d' }] } },
    outputs: { bad: { type: 'misbehaving', throwOnSeries: 'boom.now' } },
  });
  const now = Math.floor(Date.now() / 1000 / 10) * 10;
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    await send(port, Array.from({ length: 50 }, (_, i) => `held.s${i % 5} ${i} ${now - 600 + Math.floor(i / 5) * 10}\n`).join(''));
    await waitFor(async () => ((await (await fetch(`${c.httpUrl}/stats`)).json()) as Stats).instances['stores.wsp']!.received === 50, 'all 50 points accepted');
    await send(port, `boom.now 1 ${now}\n`);
    assert.equal(await c.exited, 1, c.output());
  } finally {
    c.kill('SIGKILL');
  }
  assert.match(c.output(), /uncaught exception \(a bug: please report it\): draining, then exiting 1.*timer boom/s);
  // every series on disk with its ten points, read back by a carbonado that holds nothing in memory
  const check = await spawnCarbonado({ stores: { wsp: { type: 'whisper', dataDir, durability: 'none' } }, outputs: { api: { type: 'graphite_render' } } });
  try {
    const r = await fetch(`${check.httpUrl}/render?target=held.*&from=${now - 700}&until=${now}&format=json`);
    const series = (await r.json()) as Array<{ target: string; datapoints: Array<[number | null, number]> }>;
    assert.deepEqual(series.map((s) => s.target).sort(), ['held.s0', 'held.s1', 'held.s2', 'held.s3', 'held.s4']);
    for (const s of series) assert.equal(s.datapoints.filter(([v]) => v !== null).length, 10, s.target);
  } finally {
    check.kill('SIGTERM');
    await check.exited;
  }
});
