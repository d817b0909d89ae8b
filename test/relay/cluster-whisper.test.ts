/**
 * Three carbonado nodes (carbon_line → whisper, graphite_render) behind one relaying carbonado
 * (spawned, carbon_ch with instances): each node holds exactly the series the ring names, and a
 * node that is down for RELAY_OUTAGE_SECS (default 6; the figure is 30) gets every point
 * sent meanwhile once it is back, read back through its own /render.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginManifest } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import whisper from '../../plugins/stores/whisper/index.js';
import graphiteRender from '../../plugins/outputs/graphite_render/index.js';
import { createRing, parseMember } from '../../plugins/shared/ring/ring.js';
import { portOf, spawnCarbonado, startInProcess, waitFor, type InProcess, type Spawned } from '../helpers/carbonado.js';

const OUTAGE_MS = Number(process.env.RELAY_OUTAGE_SECS ?? 6) * 1000;
const PLUGINS: PluginManifest[] = [...builtinPlugins];
for (const p of [whisper, graphiteRender]) if (!PLUGINS.some((b) => b.kind === p.kind && b.name === p.name)) PLUGINS.push(p);

function startNode(dataDir: string, port = 0): Promise<InProcess> {
  return startInProcess(
    {
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port, protocols: 'tcp' } },
      stores: { whisper: { type: 'whisper', dataDir, schemas: [{ name: 'all', pattern: '.*', retentions: '60s:1d' }] } },
      outputs: { graphite: { type: 'graphite_render' } },
    },
    { plugins: PLUGINS },
  );
}

async function sendLines(port: number, lines: string[]): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  sock.end(lines.join('\n') + '\n');
  await once(sock, 'close');
}

/** name → number of non-null points a node renders for `cluster.*.*` */
async function held(n: InProcess, from: number, until: number): Promise<Map<string, number>> {
  const r = await fetch(`${n.httpUrl}/render?target=cluster.*.*&format=json&from=${from}&until=${until}`);
  const series = (await r.json()) as Array<{ target: string; datapoints: Array<[number | null, number]> }>;
  return new Map(series.map((s) => [s.target, s.datapoints.filter(([v]) => v !== null).length]));
}

test('three carbonado nodes behind a relaying carbonado: ring placement and a node outage', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'relay-cluster-wsp-'));
  const nodes: InProcess[] = [];
  let relay: Spawned | undefined;
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startNode(join(root, `node${i}`)));
    const ports = nodes.map((n) => portOf(n.listening('inputs.carbon'), 'tcp').port);
    const destinations = ports.map((p, i) => `127.0.0.1:${p}=${'abc'[i]}`);
    relay = await spawnCarbonado({
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
      stores: { relay: { type: 'carbon_relay', destinations, spillDir: join(root, 'spill'), reconnectMinMs: 50, reconnectMaxMs: 500 } },
    });
    const relayPort = portOf(relay.listening('inputs.carbon'), 'tcp').port;
    const ring = createRing(destinations.map(parseMember), { method: 'carbon_ch', replication: 1 });
    const names = Array.from({ length: 600 }, (_, i) => `cluster.host${i % 30}.m${i}`);
    const owner = (n: string): number => ring.nodes(n)[0]!;
    const t0 = Math.floor(Date.now() / 1000 / 60) * 60 - 60 * 60;
    const from = t0 - 60;
    const until = t0 + 3600;

    await sendLines(relayPort, names.map((n, i) => `${n} ${i} ${t0}`));
    for (const [j, n] of nodes.entries()) {
      const want = names.filter((x) => owner(x) === j).sort();
      const got = await waitFor(async () => {
        const h = await held(n, from, until);
        return h.size === want.length ? h : undefined;
      }, `node ${j} holds its ${want.length} series`, 20_000, 100);
      assert.deepEqual([...got!.keys()].sort(), want, `node ${j} holds exactly the series the ring names`);
    }

    // node b goes down; points keep coming; it comes back on the same port and data directory
    await nodes[1]!.stop();
    const rounds = 3;
    for (let r = 1; r <= rounds; r++) {
      await sendLines(relayPort, names.map((n, i) => `${n} ${i + r} ${t0 + r * 60}`));
      await new Promise((res) => setTimeout(res, OUTAGE_MS / rounds));
    }
    nodes[1] = await startNode(join(root, 'node1'), ports[1]);
    const bNames = names.filter((x) => owner(x) === 1);
    await waitFor(async () => {
      const h = await held(nodes[1]!, from, until);
      return bNames.every((x) => h.get(x) === rounds + 1);
    }, 'node b has every point of the outage', 30_000, 200);
    const stats = (await (await fetch(`${relay.httpUrl}/stats`)).json()) as { instances: Record<string, { droppedTotal: number }> };
    assert.equal(stats.instances['stores.relay']?.droppedTotal, 0);
  } finally {
    if (relay) {
      relay.kill('SIGTERM');
      await relay.exited;
    }
    for (const n of nodes) await n.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
});
