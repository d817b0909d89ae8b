/**
 * A relaying carbonado (spawned, as operators run it) in front of three nodes on loopback:
 * every series lands on exactly the node the ring names; a node that is down for a while gets
 * its points once it is back; SIGTERM spills what a down node holds and the next run sends it.
 *
 * The nodes are TCP line receivers here, so each point's arrival is visible exactly. The outage
 * lasts RELAY_OUTAGE_SECS (default 6 s to keep the suite short; the 30 s is
 * `RELAY_OUTAGE_SECS=30`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOf, spawnCarbonado, type Spawned } from '../helpers/carbonado.js';
import { createRing, parseMember } from '../../plugins/shared/ring/ring.js';
import { LineSink, until } from './sinks.js';

const OUTAGE_MS = Number(process.env.RELAY_OUTAGE_SECS ?? 6) * 1000;

async function sendLines(port: number, lines: string[]): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  sock.end(lines.join('\n') + '\n');
  await once(sock, 'close');
}

async function stopSpawned(p: Spawned): Promise<number | null> {
  p.kill('SIGTERM');
  return p.exited;
}

test('three nodes behind a relaying carbonado: placement, an outage, and SIGTERM with a node down', { timeout: 120_000 }, async () => {
  const nodes = await Promise.all([0, 1, 2].map(() => new LineSink().listen()));
  const destinations = nodes.map((n, i) => `${n.address}=${'abc'[i]}`);
  const spillDir = mkdtempSync(join(tmpdir(), 'relay-cluster-'));
  const config = {
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { relay: { type: 'carbon_relay', method: 'carbon_ch', destinations, spillDir, reconnectMinMs: 50, reconnectMaxMs: 500, memoryQueuePoints: 20_000 } },
  };
  let relay = await spawnCarbonado(config);
  try {
    const ring = createRing(destinations.map(parseMember), { method: 'carbon_ch', replication: 1 });
    const names = Array.from({ length: 3000 }, (_, i) => `cluster.host${i % 40}.metric${i}`);
    const t0 = 1_700_000_000;
    const port = portOf(relay.listening('inputs.carbon'), 'tcp').port;

    // 1. placement
    await sendLines(port, names.map((n, i) => `${n} ${i} ${t0}`));
    await until(() => nodes.reduce((a, n) => a + n.lines.length, 0) === names.length, 'first round', 15_000);
    for (const [j, node] of nodes.entries()) {
      const want = names.filter((n) => ring.nodes(n)[0] === j).sort();
      assert.deepEqual([...node.counts().keys()].sort(), want, `node ${j} holds exactly its ring share`);
    }

    // 2. node b is down for the outage; points sent meanwhile arrive after it returns
    const down = nodes[1]!;
    const downCount = names.filter((n) => ring.nodes(n)[0] === 1).length;
    await down.close();
    const before = down.lines.length;
    const rounds = 4;
    for (let r = 1; r <= rounds; r++) {
      await sendLines(port, names.map((n, i) => `${n} ${i + r} ${t0 + r * 60}`));
      await new Promise((res) => setTimeout(res, OUTAGE_MS / rounds));
    }
    await until(() => nodes[0]!.lines.length + nodes[2]!.lines.length === (names.length - downCount) * (rounds + 1), 'the other nodes, undisturbed');
    await down.listen();
    await until(() => new Set(down.lines).size === before + downCount * rounds, 'every point of the outage delivered', 20_000);

    // 3. SIGTERM while node c is down: its points are spilled, and the next run delivers them
    const cDown = nodes[2]!;
    const cCount = names.filter((n) => ring.nodes(n)[0] === 2).length;
    await cDown.close();
    const cBefore = new Set(cDown.lines).size;
    await sendLines(port, names.map((n, i) => `${n} ${i} ${t0 + 3600}`));
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(await stopSpawned(relay), 0);
    await cDown.listen();
    relay = await spawnCarbonado(config);
    await until(() => new Set(cDown.lines).size === cBefore + cCount, 'spilled points sent by the next run', 20_000);
    const stats = (await (await fetch(`${relay.httpUrl}/stats`)).json()) as Record<string, unknown>;
    assert.match(JSON.stringify(stats), /"replayed":/);
  } finally {
    await stopSpawned(relay);
    await Promise.all(nodes.map((n) => n.close()));
    rmSync(spillDir, { recursive: true, force: true });
  }
});
