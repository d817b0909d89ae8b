/**
 * Three carbonado nodes (spawned: carbon_pickle → whisper, graphite_render) behind one relaying
 * carbonado (spawned: carbon_line in, carbon_relay out over pickle, carbon_ch with instances):
 * each node holds exactly the series the ring names, and a node killed (SIGKILL) for
 * RELAY_OUTAGE_SECS (default 6; the figure is 30) gets every point sent meanwhile once it
 * is back on the same port and data directory, read back through its own /render.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRing, parseMember } from '../../plugins/shared/ring/ring.js';
import { portOf, spawnCarbonado, waitFor, type Spawned } from '../helpers/carbonado.js';
import { freePort } from '../helpers/ports.js';

const OUTAGE_MS = Number(process.env.RELAY_OUTAGE_SECS ?? 6) * 1000;
function startNode(dataDir: string, port = 0): Promise<Spawned> {
  return spawnCarbonado({
    inputs: { pickle: { type: 'carbon_pickle', host: '127.0.0.1', port } },
    stores: { whisper: { type: 'whisper', dataDir, schemas: [{ name: 'all', pattern: '.*', retentions: '60s:1d' }] } },
    outputs: { graphite: { type: 'graphite_render' } },
  });
}

async function sendLines(port: number, lines: string[]): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  sock.end(lines.join('\n') + '\n');
  await once(sock, 'close');
}

/** name → number of non-null points a node renders for `cluster.*.*` */
async function held(n: Spawned, from: number, until: number): Promise<Map<string, number>> {
  const r = await fetch(`${n.httpUrl}/render?target=cluster.*.*&format=json&from=${from}&until=${until}`);
  const series = (await r.json()) as Array<{ target: string; datapoints: Array<[number | null, number]> }>;
  return new Map(series.map((s) => [s.target, s.datapoints.filter(([v]) => v !== null).length]));
}

test('three carbonado nodes behind a relaying carbonado: ring placement and a node outage', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'relay-cluster-wsp-'));
  const nodes: Spawned[] = [];
  let relay: Spawned | undefined;
  try {
    // below the ephemeral range: node b comes back on its port, which no client connection may take meanwhile
    for (let i = 0; i < 3; i++) nodes.push(await startNode(join(root, `node${i}`), await freePort()));
    const ports = nodes.map((n) => portOf(n.listening('inputs.pickle'), 'tcp').port);
    const destinations = ports.map((p, i) => `127.0.0.1:${p}=${'abc'[i]}`);
    relay = await spawnCarbonado({
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
      stores: { relay: { type: 'carbon_relay', destinations, protocol: 'pickle', spillDir: join(root, 'spill'), reconnectMinMs: 50, reconnectMaxMs: 500 } },
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

    // node b is killed; points keep coming; it comes back on the same port and data directory
    nodes[1]!.kill('SIGKILL');
    await nodes[1]!.exited;
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
    const stats = (await (await fetch(`${relay.httpUrl}/stats`)).json()) as { instances: Record<string, { droppedTotal: number; received: number }> };
    assert.equal(stats.instances['stores.relay']?.droppedTotal, 0);
    // each point once (it was counted by the runtime and again by the relay)
    assert.equal(stats.instances['inputs.carbon']?.received, names.length * (rounds + 1));
    assert.equal(stats.instances['stores.relay']?.received, names.length * (rounds + 1));
  } finally {
    if (relay) {
      relay.kill('SIGTERM');
      await relay.exited;
    }
    for (const n of nodes) {
      n.kill('SIGTERM');
      await n.exited;
    }
    rmSync(root, { recursive: true, force: true });
  }
});
