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
