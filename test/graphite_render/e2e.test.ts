// End to end in a spawned process: Carbon plaintext in, whisper store, graphite_render out
// (what a Grafana user runs), including a tagged series through seriesByTag and the tag API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOf, spawnCarbonado, waitFor } from '../helpers/carbonado.js';

test('carbon line → whisper → /render, /metrics/find and /tags in one spawned carbonado', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-gr-e2e-'));
  const app = await spawnCarbonado({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: { type: 'whisper', dataDir: dir, durability: 'none', schemas: [{ name: 'all', pattern: '.', retentions: '60s:1d' }] } },
    query: { store: 'main' },
    outputs: { graphite: { type: 'graphite_render' } },
  });
  try {
    const { port } = portOf(app.listening('inputs.carbon'), 'tcp');
    const now = Math.floor(Date.now() / 1000);
    const t0 = now - (now % 60) - 600;
    let lines = '';
    for (let i = 0; i < 10; i++) {
      lines += `e2e.web01.load ${i} ${t0 + i * 60}\n`;
      lines += `e2e.web02.load ${i * 2} ${t0 + i * 60}\n`;
      lines += `e2e.disk;host=web01;dc=a ${i * 10} ${t0 + i * 60}\n`;
    }
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.end(lines));
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    const url = `${app.httpUrl}/render?target=sumSeries(e2e.*.load)&from=-15min&format=json`;
    const series = await waitFor(async () => {
      const body = (await (await fetch(url)).json()) as Array<{ target: string; datapoints: Array<[number | null, number]> }>;
      const pts = body[0]?.datapoints.filter(([v]) => v !== null) ?? [];
      return pts.length === 10 ? body : undefined;
    }, 'points readable through /render', 20_000, 100);
    assert.equal(series![0]!.target, 'sumSeries(e2e.*.load)');
    assert.deepEqual(series![0]!.datapoints.filter(([v]) => v !== null).map(([v]) => v), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    const find = (await (await fetch(`${app.httpUrl}/metrics/find?query=e2e.*`)).json()) as Array<{ text: string }>;
    assert.deepEqual(find.map((n) => n.text).filter((t) => t.startsWith('web')), ['web01', 'web02']);
    const tagged = await waitFor(async () => {
      const r = (await (await fetch(`${app.httpUrl}/render?format=json&from=-15min&target=${encodeURIComponent("seriesByTag('name=e2e.disk','dc=a')")}`)).json()) as Array<{ target: string; tags: Record<string, string> }>;
      return r.length === 1 ? r : undefined;
    }, 'tagged series', 10_000, 100);
    assert.equal(tagged![0]!.target, 'e2e.disk;dc=a;host=web01');
    assert.deepEqual(tagged![0]!.tags, { name: 'e2e.disk', dc: 'a', host: 'web01' });
    assert.deepEqual(await (await fetch(`${app.httpUrl}/tags/autoComplete/tags?expr=name%3De2e.disk`)).json(), ['dc', 'host']);
  } finally {
    app.kill('SIGTERM');
    await app.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
