// The StatsD inputs end to end in one carbonado runtime: real sockets, real clients (hot-shots and
// Debian's python3-statsd), the real aggregator; the flushed points are read from a capture store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import StatsD from 'hot-shots';
import { builtinPlugins } from '../../plugins/index.js';
import { startInProcess, portOf, waitFor, type InProcess } from '../helpers/carbonado.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';
import { captureStore, captured, lastOf, sumOf } from './capture-store.js';

const FLUSH_MS = 200;

async function start(inputs: Record<string, unknown>, agg: Record<string, unknown> = {}): Promise<InProcess> {
  return startInProcess(
    {
      inputs,
      aggregators: { statsd: { type: 'statsd', flushIntervalMs: FLUSH_MS, ...agg } },
      stores: { cap: { type: 'test_capture' } },
    },
    { plugins: [...builtinPlugins, captureStore] },
  );
}
const points = () => captured.get('stores.cap')!;
const inputStats = (c: InProcess, id: string) => (c.stats() as { instances: Record<string, { counters: Record<string, number>; dropped: Record<string, number> }> }).instances[id]!;

async function sendUdp(host: string, port: number, datagrams: string[], type: 'udp4' | 'udp6' = 'udp4'): Promise<void> {
  const s = dgram.createSocket(type);
  // paced in small bursts: this test is about accounting, not about kernel buffer limits
  for (let i = 0; i < datagrams.length; i++) {
    await new Promise<void>((res, rej) => s.send(datagrams[i]!, port, host, (e) => (e ? rej(e) : res())));
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  s.close();
}

test('hot-shots over UDP and TCP: every type and tags reach the store with Etsy names', async () => {
  const c = await start({
    udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 },
    tcp: { type: 'statsd_tcp', host: '127.0.0.1', port: 0 },
  });
  try {
    const udp = portOf(c.listening('inputs.udp'), 'udp');
    const tcp = portOf(c.listening('inputs.tcp'), 'tcp');
    const u = new StatsD({ host: udp.host, port: udp.port, protocol: 'udp' });
    u.increment('hs.udp.hits', 3);
    u.timing('hs.udp.latency', 42);
    u.gauge('hs.udp.level', 7);
    u.set('hs.udp.users', 'alice');
    u.increment('hs.udp.tagged', 1, { env: 'prod', role: 'web' });
    await new Promise<void>((r) => u.close(() => r()));
    const t = new StatsD({ host: tcp.host, port: tcp.port, protocol: 'tcp' });
    t.increment('hs.tcp.hits', 5);
    t.timing('hs.tcp.latency', 8);
    await new Promise<void>((r) => t.close(() => r()));
    await waitFor(() => sumOf(points(), 'stats_counts.hs.tcp.hits') === 5 && sumOf(points(), 'stats_counts.hs.udp.hits') === 3, 'hot-shots values flushed');
    const p = points();
    assert.equal(sumOf(p, 'stats_counts.hs.udp.tagged;env=prod;role=web'), 1);
    assert.equal(lastOf(p, 'stats.gauges.hs.udp.level'), 7);
    assert.ok(p.some((x) => x.name === 'stats.sets.hs.udp.users.count' && x.value === 1));
    assert.ok(p.some((x) => x.name === 'stats.timers.hs.udp.latency.upper_90' && x.value === 42));
    assert.ok(p.some((x) => x.name === 'stats.timers.hs.tcp.latency.mean' && x.value === 8));
    // flush timestamps sit on interval boundaries
    for (const x of p) assert.equal(Math.round(x.time * 1000) % FLUSH_MS, 0, `${x.name} at ${x.time}`);
  } finally {
    await c.stop();
  }
});

test("Debian's python3-statsd client over UDP and TCP", async (t) => {
  if (!requirePeer(t, hasPythonModule('statsd'), 'python3-statsd')) return;
  const c = await start({
    udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 },
    tcp: { type: 'statsd_tcp', host: '127.0.0.1', port: 0 },
  });
  try {
    const udp = portOf(c.listening('inputs.udp'), 'udp');
    const tcp = portOf(c.listening('inputs.tcp'), 'tcp');
    const script = `
import statsd
u = statsd.StatsClient('${udp.host}', ${udp.port}, prefix='py')
u.incr('hits', 4)
u.timing('latency', 12.5)
u.gauge('level', 10)
u.gauge('level', -3, delta=True)
u.set('users', 'bob')
t = statsd.TCPStatsClient('${tcp.host}', ${tcp.port}, prefix='pytcp')
t.incr('hits', 6)
with t.pipeline() as pipe:
    pipe.incr('piped', 2)
    pipe.timing('lat', 3)
t.close()
`;
    const r = spawnSync(DEBIAN_PYTHON, ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await waitFor(() => sumOf(points(), 'stats_counts.py.hits') === 4 && sumOf(points(), 'stats_counts.pytcp.piped') === 2, 'python values flushed');
    const p = points();
    assert.equal(sumOf(p, 'stats_counts.pytcp.hits'), 6);
    assert.equal(lastOf(p, 'stats.gauges.py.level'), 7);
    assert.ok(p.some((x) => x.name === 'stats.timers.py.latency.upper' && x.value === 12.5));
    assert.ok(p.some((x) => x.name === 'stats.timers.pytcp.lat.count' && x.value === 1));
  } finally {
    await c.stop();
  }
});

test('UDP: 1,000 malformed datagrams mixed into valid traffic, counts exact, server survives', async () => {
  const c = await start({ udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } });
  try {
    const { host, port } = portOf(c.listening('inputs.udp'), 'udp');
    const malformed = ['x', 'x:abc|c', 'x:1|c|@abc', ':1|c', 'x:-1|ms', 'a..b:1|c', '\u0000\u0001:1|c', 'x:1|c|#flag', `${'y'.repeat(1200)}:1|c`, 'x:1|c|@0'];
    const datagrams: string[] = [];
    for (let i = 0; i < 2000; i++) {
      if (i % 2 === 0) datagrams.push(`valid.c:1|c\nvalid.t:${i}|ms`);
      else datagrams.push(malformed[(i >> 1) % malformed.length]!);
    }
    datagrams.push(Buffer.from([0xff, 0xfe, 0x3a, 0x31, 0x7c, 0x63]).toString('latin1')); // invalid UTF-8 key
    await sendUdp(host, port, datagrams);
    await waitFor(() => inputStats(c, 'inputs.udp').counters.packets_received === 2001, 'all datagrams counted');
    const s = inputStats(c, 'inputs.udp');
    assert.equal(s.counters.metrics_received, 1000 * 2 + 1001);
    assert.equal(s.counters.bad_lines_seen, 1001, "1000 malformed + the invalid UTF-8 key");
    assert.equal(s.dropped.no_type, 100);
    assert.equal(s.dropped.bad_rate, 200);
    await waitFor(() => sumOf(points(), 'stats_counts.valid.c') === 1000, 'valid counters flushed');
    await waitFor(() => sumOf(points(), 'stats_counts.statsd.bad_lines_seen') === 1001, "bad_lines_seen flushed");
    assert.equal(sumOf(points(), 'stats_counts.statsd.packets_received'), 2001);
  } finally {
    await c.stop();
  }
});

test('UDP over IPv6 loopback', async (t) => {
  const probe = dgram.createSocket('udp6');
  const ok = await new Promise<boolean>((r) => {
    probe.once('error', () => r(false));
    probe.bind(0, '::1', () => r(true));
  });
  probe.close();
  if (!ok) return t.skip('no IPv6 loopback');
  const c = await start({ udp6: { type: 'statsd_udp', host: '::1', port: 0 } });
  try {
    const { port } = portOf(c.listening('inputs.udp6'), 'udp');
    assert.match(c.listening('inputs.udp6')[0]!, /^udp:\/\/\[::1\]:\d+$/);
    await sendUdp('::1', port, ['v6.hits:2|c'], 'udp6');
    await waitFor(() => sumOf(points(), 'stats_counts.v6.hits') === 2, 'IPv6 counter flushed');
  } finally {
    await c.stop();
  }
});

test('TCP: lines split across writes, a line too long is dropped, a final line without newline is kept', async () => {
  const c = await start({ tcp: { type: 'statsd_tcp', host: '127.0.0.1', port: 0, maxLineBytes: 1024 } });
  try {
    const { host, port } = portOf(c.listening('inputs.tcp'), 'tcp');
    const sock = net.connect(port, host);
    await new Promise((r) => sock.once('connect', r));
    sock.write('split.hi');
    await new Promise((r) => setTimeout(r, 20));
    sock.write('ts:3|c\nlong');
    sock.write('x'.repeat(2000));
    // the unfinished line passes maxLineBytes: dropped now, and skipped up to its newline
    await waitFor(() => inputStats(c, 'inputs.tcp').dropped.line_too_long === 1, 'line_too_long counted');
    sock.write(`${'x'.repeat(500)}:1|c\nafter:1|c\nlast:4|c`);
    sock.end();
    await waitFor(() => sumOf(points(), 'stats_counts.last') === 4, 'final line flushed');
    assert.equal(sumOf(points(), 'stats_counts.split.hits'), 3);
    assert.equal(sumOf(points(), 'stats_counts.after'), 1);
    assert.equal(inputStats(c, 'inputs.tcp').dropped.line_too_long, 1);
    assert.equal(inputStats(c, 'inputs.tcp').counters.bad_lines_seen, 1);
  } finally {
    await c.stop();
  }
});

test('the management reads under /statsd', async () => {
  const c = await start({ udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } }, { flushIntervalMs: 60_000 });
  try {
    const { host, port } = portOf(c.listening('inputs.udp'), 'udp');
    await sendUdp(host, port, ['m.c:2|c\nm.g:5|g\nm.t:7|ms\nm.s:a|s']);
    const get = async (p: string) => (await fetch(`${c.httpUrl}/statsd/${p}`)).json() as Promise<Record<string, unknown>>;
    await waitFor(async () => (await get('counters'))['m.c'] === 2, 'counter visible');
    assert.deepEqual(await get('health'), { health: 'up' });
    assert.equal((await get('gauges'))['m.g'], 5);
    assert.deepEqual((await get('timers'))['m.t'], [7]);
    assert.deepEqual((await get('sets'))['m.s'], ['a']);
    const stats = await get('stats');
    assert.equal((stats.keys as Record<string, number>).timers, 1);
  } finally {
    await c.stop();
  }
});

test('stop flushes what the aggregator holds (nothing acknowledged is lost on SIGTERM)', async () => {
  const c = await start({ udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } }, { flushIntervalMs: 3_600_000 });
  const { host, port } = portOf(c.listening('inputs.udp'), 'udp');
  await sendUdp(host, port, ['held.c:9|c']);
  await waitFor(() => inputStats(c, 'inputs.udp').counters.packets_received === 1, 'packet received');
  await c.stop();
  assert.equal(sumOf(points(), 'stats_counts.held.c'), 9);
});

test('a sample parsed just before the flush boundary counts in that flush, whatever the batch delay', async () => {
  // Inputs hand samples over in batches (batch.maxDelayMs); a long delay makes the window wide
  // enough to hit on purpose: without the drain at the boundary the sample would wait 10 s.
  const c = await startInProcess(
    {
      batch: { maxDelayMs: 10_000 },
      inputs: { udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
      aggregators: { statsd: { type: 'statsd', flushIntervalMs: 1000 } },
      stores: { cap: { type: 'test_capture' } },
    },
    { plugins: [...builtinPlugins, captureStore] },
  );
  try {
    const { host, port } = portOf(c.listening('inputs.udp'), 'udp');
    // send 300-500 ms before a boundary
    while (Date.now() % 1000 < 500 || Date.now() % 1000 > 700) await new Promise((r) => setTimeout(r, 5));
    const boundary = Math.ceil(Date.now() / 1000);
    await sendUdp(host, port, ['edge.k:1|c']);
    await waitFor(() => inputStats(c, 'inputs.udp').counters.metrics_received === 1, 'sample parsed');
    assert.ok(Date.now() < boundary * 1000, 'the sample was parsed before the boundary (machine too slow to test)');
    await waitFor(() => points().some((p) => p.name === 'stats_counts.edge.k'), 'the boundary flush carries the sample', 3000);
    const hit = points().find((p) => p.name === 'stats_counts.edge.k')!;
    assert.equal(hit.value, 1);
    assert.equal(hit.time, boundary);
  } finally {
    await c.stop();
  }
});
