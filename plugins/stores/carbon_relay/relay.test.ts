import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointBatch } from '../../../core/index.js';
import { createRing, parseMember } from '../../shared/ring/ring.js';
import { LineSink, until } from '../../../test/relay/sinks.js';
import { refusingPort } from '../../../test/helpers/ports.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../../../test/helpers/peers.js';
import { ctxFor, relayOptions } from '../../../test/relay/context.js';
import { CarbonRelay } from './relay.js';

function batchOf(names: string[], t0: number, value = (i: number) => i): ReturnType<typeof pointBatch> {
  return pointBatch(names.map((n, i) => [n, value(i), t0] as const));
}

const names = (n: number, prefix = 'relay.test'): string[] => Array.from({ length: n }, (_, i) => `${prefix}.s${i}`);

test('routes every point to the destinations the ring names, and counts exactly', async () => {
  const sinks = await Promise.all([0, 1, 2].map(() => new LineSink().listen()));
  const dests = sinks.map((s) => s.address);
  const ctx = ctxFor();
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: dests, method: 'fnv1a_ch', replication: 2, overflow: 'drop_oldest' }));
  await relay.start();
  const ns = names(3000);
  relay.write(batchOf(ns, 1_700_000_000));
  relay.write(batchOf(ns, 1_700_000_060));
  await until(() => sinks.reduce((a, s) => a + s.lines.length, 0) === 12000, 'all 12000 copies');
  const ring = createRing(dests.map(parseMember), { method: 'fnv1a_ch', replication: 2 });
  for (const [j, sink] of sinks.entries()) {
    const counts = sink.counts();
    for (const n of ns) assert.equal(counts.get(n) ?? 0, ring.nodes(n).includes(j) ? 2 : 0, `${n} on sink ${j}`);
  }
  await relay.stop();
  const snap = ctx.stats.snapshot(relay.stats());
  assert.equal(snap.counters.sent, 12000);
  assert.equal(snap.droppedTotal, 0);
  await Promise.all(sinks.map((s) => s.close()));
});

/** The relay's pickle stream as carbon's safe unpickler reads it: frame sizes, points per frame, each point's repr. */
function carbonFrames(data: Buffer): { sizes: number[]; counts: number[]; points: string[] } {
  const py = `
import sys, struct, json
from carbon.util import get_unpickler
unpickle = get_unpickler()
data = sys.stdin.buffer.read()
o = 0; sizes = []; counts = []; pts = []
while o < len(data):
    n = struct.unpack('!L', data[o:o+4])[0]
    batch = unpickle.loads(data[o+4:o+4+n]); o += 4 + n
    sizes.append(n); counts.append(len(batch)); pts.extend(repr(p) for p in batch)
print(json.dumps({'sizes': sizes, 'counts': counts, 'points': pts}, ensure_ascii=False))
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', py], { input: data, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { sizes: number[]; counts: number[]; points: string[] };
}

test('pickle frames carry at most 500 points and decode with carbon\'s safe unpickler', async (t) => {
  if (!requirePeer(t, hasPythonModule('carbon.util'), 'graphite-carbon')) return;
  const sink = await new LineSink('raw').listen();
  const relay = new CarbonRelay(ctxFor(), relayOptions({ destinations: [sink.address], protocol: 'pickle', overflow: 'drop_oldest' }));
  await relay.start();
  relay.write(pointBatch([['tagged.x;dc=eu;host=h1', 1.5, 1_700_000_000], ['plain.ünï', -2, 1_700_000_000.5]]));
  relay.write(batchOf(names(1200), 1_700_000_010, (i) => i * 0.25));
  await relay.stop();
  await until(() => Buffer.concat(sink.raw).length > 0, 'bytes');
  await sink.close();
  const { counts, points } = carbonFrames(Buffer.concat(sink.raw));
  assert.equal(Math.max(...counts), 500);
  assert.equal(points.length, 1202);
  assert.deepEqual([points[0], points[1], points[1201]], ["('tagged.x;dc=eu;host=h1', (1700000000, 1.5))", "('plain.ünï', (1700000000.5, -2.0))", "('relay.test.s1199', (1700000010, 299.75))"]);
});

test('a destination that is down: points wait in memory, then on disk, and arrive when it is back', async () => {
  const down = await refusingPort();
  const port = down.port;
  const spillDir = mkdtempSync(join(tmpdir(), 'relay-spill-'));
  const ctx = ctxFor();
  const relay = new CarbonRelay(
    ctx,
    relayOptions({ destinations: [`127.0.0.1:${port}`], memoryQueuePoints: 2000, spillDir, reconnectMinMs: 20, reconnectMaxMs: 100 }),
  );
  await relay.start();
  for (let k = 0; k < 5; k++) relay.write(batchOf(names(1000), 1_700_000_000 + k * 10));
  const queued = relay.stats();
  const label = `127_0_0_1_${port}`;
  assert.equal(queued[`${label}.queued_memory`]! + queued[`${label}.queued_disk`]!, 5000);
  assert.ok(queued[`${label}.queued_disk`]! > 0, 'overflow went to disk');
  await down.release();
  const sink = await new LineSink().listen(port);
  await until(() => sink.distinct().size === 5000, 'all 5000 points after the destination came back');
  await relay.stop();
  const snap = ctx.stats.snapshot();
  assert.equal(snap.droppedTotal, 0);
  assert.equal(snap.counters[`${label}.spilled`], snap.counters[`${label}.replayed`]);
  assert.equal(readdirSync(join(spillDir, 'stores_relay', label)).length, 0, 'disk queue emptied');
  await sink.close();
  rmSync(spillDir, { recursive: true, force: true });
});

test('stop spills what a down destination holds; the next run sends it', async () => {
  const down = await refusingPort();
  const port = down.port;
  const spillDir = mkdtempSync(join(tmpdir(), 'relay-spill-'));
  const opts = relayOptions({ destinations: [`127.0.0.1:${port}`], spillDir, reconnectMinMs: 20, reconnectMaxMs: 50, drainTimeoutMs: 500 });
  const first = new CarbonRelay(ctxFor(), opts);
  await first.start();
  first.write(batchOf(names(777), 1_700_000_000));
  await first.stop();
  const spilled = readdirSync(join(spillDir, 'stores_relay', `127_0_0_1_${port}`));
  assert.deepEqual(spilled.map((f) => f.replace(/^\d+-/, '')), ['777.lines']);

  await down.release();
  const sink = await new LineSink().listen(port);
  const ctx = ctxFor();
  const second = new CarbonRelay(ctx, opts);
  await second.start();
  await until(() => sink.lines.length === 777, 'the spilled points');
  await second.stop();
  assert.equal(ctx.stats.snapshot().counters.replayed, 777);
  await sink.close();
  rmSync(spillDir, { recursive: true, force: true });
});

test('stop flushes a connected destination completely', async () => {
  const sink = await new LineSink().listen();
  const relay = new CarbonRelay(ctxFor(), relayOptions({ destinations: [sink.address], overflow: 'drop_oldest' }));
  await relay.start();
  await until(() => relay.stats()[`127_0_0_1_${sink.port}.connected`] === 1, 'connected');
  relay.write(batchOf(names(50_000), 1_700_000_000));
  await relay.stop();
  await until(() => sink.lines.length === 50_000, 'every point before close');
  await sink.close();
});

test('drop_oldest: beyond the memory bound the oldest points are dropped and counted', async (t) => {
  const down = await refusingPort();
  t.after(() => down.release());
  const port = down.port;
  const ctx = ctxFor();
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: [`127.0.0.1:${port}`], overflow: 'drop_oldest', memoryQueuePoints: 1000, drainTimeoutMs: 200 }));
  await relay.start();
  relay.write(batchOf(names(4000), 1_700_000_000));
  const label = `127_0_0_1_${port}`;
  const held = relay.stats()[`${label}.queued_memory`]!;
  const dropped = ctx.stats.snapshot().dropped.queue_full ?? 0;
  assert.equal(held + dropped, 4000);
  assert.ok(held <= 1000);
  await relay.stop();
  assert.equal(ctx.stats.snapshot().dropped.shutdown, held);
});

test('rules: drop, send to a subset, and unmatched names', async () => {
  const sinks = await Promise.all([0, 1, 2].map(() => new LineSink().listen()));
  const ctx = ctxFor();
  const relay = new CarbonRelay(
    ctx,
    relayOptions({
      destinations: sinks.map((s) => s.address),
      rules: [
        { match: '^junk\\.', action: 'drop', destinations: [], then: 'stop' },
        { match: '^jupyter\\.', action: 'send', destinations: [sinks[2]!.address], then: 'stop' },
      ],
      unmatched: 'drop',
      method: 'fnv1a_ch',
      overflow: 'drop_oldest',
    }),
  );
  await relay.start();
  relay.write(pointBatch([
    ['junk.a', 1, 1_700_000_000],
    ['jupyter.hub.users', 2, 1_700_000_000],
    ['other.x', 3, 1_700_000_000],
  ]));
  await until(() => sinks[2]!.lines.length === 1, 'the jupyter point');
  await relay.stop();
  assert.deepEqual(sinks[2]!.lines, ['jupyter.hub.users 2 1700000000']);
  assert.equal(sinks[0]!.lines.length + sinks[1]!.lines.length, 0);
  const snap = ctx.stats.snapshot();
  assert.equal(snap.dropped.rule_drop, 1);
  assert.equal(snap.dropped.no_route, 1);
  await Promise.all(sinks.map((s) => s.close()));
});

test('a connection cut mid-stream loses nothing: recent writes are sent again', async () => {
  const sink = await new LineSink().listen();
  const ctx = ctxFor();
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: [sink.address], overflow: 'drop_oldest', reconnectMinMs: 20, reconnectMaxMs: 50 }));
  await relay.start();
  const ns = names(2000);
  for (let k = 0; k < 20; k++) {
    relay.write(batchOf(ns, 1_700_000_000 + k * 10));
    if (k === 10) {
      await sink.close();
      await sink.listen();
    }
    await new Promise((r) => setImmediate(r));
  }
  await until(() => sink.distinct().size === 40_000, 'all 40000 distinct points', 15_000);
  await relay.stop();
  const snap = ctx.stats.snapshot();
  assert.equal(snap.droppedTotal, 0);
  // exact accounting: every point counted sent once, plus once more for each resend
  assert.equal(snap.counters.sent! - (snap.counters.resent ?? 0), 40_000);
  await sink.close();
});

test('a disk queue that cannot be written drops and counts instead of throwing', async (t) => {
  const down = await refusingPort();
  t.after(() => down.release());
  const port = down.port;
  const ctx = ctxFor();
  // a regular file where the spill directory's parent should be: every write fails
  const roDir = mkdtempSync(join(tmpdir(), 'relay-ro-'));
  const blocker = join(roDir, 'file');
  writeFileSync(blocker, 'x');
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: [`127.0.0.1:${port}`], memoryQueuePoints: 1000, spillDir: join(blocker, 'sub'), drainTimeoutMs: 200 }));
  await assert.rejects(relay.start(), /ENOTDIR|EEXIST/);
  relay.write(batchOf(names(3000), 1_700_000_000));
  await relay.stop();
  const snap = ctx.stats.snapshot();
  assert.equal(snap.dropped.spill_failed ?? 0, 3000);
  rmSync(roDir, { recursive: true, force: true });
});

test("pickle frames stay within carbon's 1 MiB, whatever pointsPerFrame and the names' lengths", async (t) => {
  if (!requirePeer(t, hasPythonModule('carbon.util'), 'graphite-carbon')) return;
  const sink = await new LineSink('raw').listen();
  const relay = new CarbonRelay(ctxFor(), relayOptions({ destinations: [sink.address], protocol: 'pickle', pointsPerFrame: 100_000, overflow: 'drop_oldest' }));
  await relay.start();
  // 2,565 UTF-8 bytes per name: 500 points made a 1.4 MB frame, which carbon refuses by closing
  const long = `rzbig.${Array.from({ length: 10 }, () => '日'.repeat(85)).join('.')}`;
  relay.write(pointBatch(Array.from({ length: 600 }, (_, i) => [long, i, 1_700_000_000 + i * 10] as const)));
  relay.write(batchOf(names(60_000), 1_700_000_010));
  await relay.stop();
  await until(() => Buffer.concat(sink.raw).length > 0, 'bytes');
  await sink.close();
  const { sizes, points } = carbonFrames(Buffer.concat(sink.raw));
  assert.ok(Math.max(...sizes) <= 2 ** 20, `largest frame ${Math.max(...sizes)} bytes`);
  assert.equal(points.length, 60_600);
});

test('a destination that closes the connection on one chunk every time: it is dropped after 10 tries, the points behind it go through', async () => {
  const got: string[] = [];
  let closes = 0;
  const server = createServer((s) => {
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
      if (text.includes('poison')) {
        closes++;
        s.destroy();
        return;
      }
      const lines = text.split('\n');
      text = lines.pop()!;
      got.push(...lines);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const ctx = ctxFor();
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: [`127.0.0.1:${port}`], overflow: 'drop_oldest', reconnectMinMs: 10, reconnectMaxMs: 20 }));
  try {
    await relay.start();
    relay.write(batchOf(['poison.a'], 1_700_000_000));
    await until(() => closes >= 1, 'the destination refused the chunk');
    relay.write(batchOf(['good.b'], 1_700_000_000));
    await until(() => got.length === 1, 'the point behind it arrived', 10_000);
    assert.equal(got[0], 'good.b 0 1700000000');
    assert.equal(closes, 11, 'written once and sent again 10 times');
    const snap = ctx.stats.snapshot();
    assert.equal(snap.dropped.resend_limit, 1);
    assert.equal(snap.counters.sent! - snap.counters.resent!, 1, 'sent - resent + dropped = appended');
  } finally {
    await relay.stop();
    server.close();
  }
});

test('a connection that breaks after the resend window re-sends nothing; -0 keeps its sign in plaintext', async () => {
  const sink = await new LineSink().listen();
  const ctx = ctxFor();
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: [sink.address], overflow: 'drop_oldest', resendWindowMs: 100, reconnectMinMs: 20, reconnectMaxMs: 50 }));
  await relay.start();
  relay.write(pointBatch([['zero.neg', -0, 1_700_000_000], ['zero.pos', 0, 1_700_000_000]]));
  await until(() => sink.lines.length === 2, 'both points');
  assert.deepEqual([...sink.lines].sort(), ['zero.neg -0 1700000000', 'zero.pos 0 1700000000']);
  await new Promise((r) => setTimeout(r, 300)); // idle past the window: nothing written since
  await sink.close();
  await sink.listen();
  relay.write(pointBatch([['after.break', 1, 1_700_000_000]]));
  await until(() => sink.lines.includes('after.break 1 1700000000'), 'the next point');
  await relay.stop();
  assert.equal(ctx.stats.snapshot().counters.resent ?? 0, 0);
  assert.equal(sink.lines.length, 3);
  await sink.close();
});
