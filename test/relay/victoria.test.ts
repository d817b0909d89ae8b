/**
 * Relay to VictoriaMetrics (Debian victoria-metrics, started on loopback by the test with the
 * shared anchor launcher): points arrive, checked through its export API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointBatch } from '../../core/index.js';
import { CarbonRelay } from '../../plugins/stores/carbon_relay/relay.js';
import { requirePeer, SHARED_DIR } from '../helpers/peers.js';
import { waitFor } from '../helpers/carbonado.js';
import { ctxFor, relayOptions } from './context.js';
import { until } from './sinks.js';
import { freePort } from '../helpers/ports.js';

const LAUNCHER = join(SHARED_DIR, 'bench/anchors/start-victoria-metrics.sh');

interface ExportLine {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

test('points relayed to VictoriaMetrics arrive (export API)', { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, existsSync('/usr/bin/victoria-metrics'), 'victoria-metrics')) return;
  if (!existsSync(LAUNCHER)) return t.skip('the shared bench launcher is not here');
  const dir = mkdtempSync(join(tmpdir(), 'relay-vm-'));
  const graphitePort = await freePort();
  const httpPort = await freePort();
  const pid = Number(spawnSync(LAUNCHER, [dir, String(graphitePort), String(httpPort)], { encoding: 'utf8' }).stdout.trim());
  assert.ok(pid > 0, 'VictoriaMetrics started');
  const relay = new CarbonRelay(ctxFor(), relayOptions({ destinations: [`127.0.0.1:${graphitePort}`], overflow: 'drop_oldest', reconnectMinMs: 50, reconnectMaxMs: 200 }));
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/health`).catch(() => undefined))?.ok, 'VictoriaMetrics listening', 20_000, 100);
    await relay.start();
    const t0 = Math.floor(Date.now() / 1000 / 60) * 60 - 600;
    const points: Array<[string, number, number]> = [];
    for (let s = 0; s < 20; s++) for (let k = 0; k < 10; k++) points.push([`relay.vm.s${s}`, s * 100 + k, t0 + k * 60]);
    points.push(['relay.vm.tagged;dc=eu;host=h1', 42, t0]);
    relay.write(pointBatch(points));
    const url = `http://127.0.0.1:${httpPort}/api/v1/export?match[]=${encodeURIComponent('{__name__=~"relay\\\\.vm\\\\..*"}')}`;
    const exported = async (): Promise<ExportLine[]> => {
      const text = (await (await fetch(url)).text()).trim();
      return text ? text.split('\n').map((l) => JSON.parse(l) as ExportLine) : [];
    };
    // VictoriaMetrics makes new points searchable after a second or two
    const got = (await waitFor(async () => {
      const lines = await exported();
      return lines.reduce((a, l) => a + l.values.length, 0) >= points.length ? lines : undefined;
    }, 'all points exported', 30_000, 250))!;
    const byName = new Map(got.map((l) => [l.metric.__name__ + Object.entries(l.metric).filter(([k]) => k !== '__name__').sort().map(([k, v]) => `;${k}=${v}`).join(''), l]));
    const s7 = byName.get('relay.vm.s7');
    assert.ok(s7, `relay.vm.s7 exported (got ${[...byName.keys()].slice(0, 5).join(', ')})`);
    assert.deepEqual(s7.values, [700, 701, 702, 703, 704, 705, 706, 707, 708, 709]);
    assert.deepEqual(s7.timestamps, Array.from({ length: 10 }, (_, k) => (t0 + k * 60) * 1000));
    assert.deepEqual(byName.get('relay.vm.tagged;dc=eu;host=h1')?.values, [42]);
    assert.equal(got.reduce((a, l) => a + l.values.length, 0), points.length);
  } finally {
    await relay.stop();
    process.kill(pid, 'SIGTERM');
    await until(() => spawnSync('kill', ['-0', String(pid)]).status !== 0, 'VictoriaMetrics exit', 10_000).catch(() => process.kill(pid, 'SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  }
});
