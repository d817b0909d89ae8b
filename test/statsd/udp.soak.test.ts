// The reliability catalogue's UDP soak (../shared/reference/users-and-reliability.md §6, case 8):
// 60 s of one-line StatsD datagrams at 50,000/s on loopback into a spawned carbonado (statsd_udp →
// statsd aggregator → whisper store) while a /render loop runs. Reports sent, received and the
// kernel's RcvbufErrors; the drop rate must stay under the threshold documented in
// plugins/inputs/statsd_udp/README.md, and every counter increment received must be readable back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, portOf, waitFor } from '../helpers/carbonado.js';

const SECONDS = Number(process.env.CARBONADO_SOAK_SECONDS ?? 60);
const RATE = 50_000;
/** the documented bound (statsd_udp README): under 1 % of datagrams lost at this load */
const MAX_DROP = 0.01;
const KEYS = 1000;
/** the render loop: like a busy Grafana, 10 refreshes per second of a heavy panel */
const RENDER_CLIENTS = 2;
const RENDER_EVERY_MS = 200;

/** Paced sender in its own process (so that the test's render loop does not slow it down). */
const SENDER = `
const dgram = require('node:dgram');
const [port, rate, seconds, keys] = process.argv.slice(1).map(Number);
const lines = Array.from({ length: keys }, (_, i) => Buffer.from('soak.c.n' + i + ':1|c'));
const s = dgram.createSocket('udp4');
s.connect(port, '127.0.0.1', () => {
  const t0 = performance.now();
  const total = rate * seconds;
  let sent = 0;
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    while (sent < due) s.send(lines[sent++ % keys]);
    if (sent < total) setTimeout(tick, 1);
    else s.close(() => process.stdout.write(JSON.stringify({ sent, seconds: (performance.now() - t0) / 1000 }) + '\\n'));
  };
  tick();
});
`;

/** user + system CPU seconds of a process (Linux /proc; 0 elsewhere) */
function cpuSeconds(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

interface Stats {
  instances: Record<string, { counters: Record<string, number>; gauges: Record<string, number>; } >;
}

test(`UDP soak: ${SECONDS} s at ${RATE} datagrams/s with a render loop: drop rate under ${MAX_DROP * 100} %, every received count readable`, { timeout: (SECONDS + 90) * 1000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'carbonado-udp-soak-'));
  const proc = await spawnCarbonado({
    inputs: { statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
    aggregators: { statsd: { type: 'statsd', flushIntervalMs: 1000 } },
    // 1 s slots, so that each 1 s flush has its own slot and the counts can be summed back
    stores: { whisper: { type: 'whisper', dataDir, schemas: [{ name: 'soak', pattern: '.*', retentions: '1s:1h' }] } },
    outputs: { graphite: { type: 'graphite_render' } },
  });
  try {
    const { port } = portOf(proc.listening('inputs.statsd'), 'udp');
    const stats = async (): Promise<Stats> => (await (await fetch(`${proc.httpUrl}/stats`)).json()) as Stats;
    const input = async () => (await stats()).instances['inputs.statsd']!;
    const kernelBefore = (await input()).gauges.kernel_rcvbuf_errors ?? 0;
    const from = Math.floor(Date.now() / 1000) - 5;
    const cpuBefore = cpuSeconds(proc.pid);

    const sender = spawn(process.execPath, ['-e', SENDER, String(port), String(RATE), String(SECONDS), String(KEYS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    sender.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const senderDone = new Promise<number | null>((res) => sender.on('exit', (code) => res(code)));

    // the render loop, as a busy Grafana: RENDER_CLIENTS clients, each asking every
    // RENDER_EVERY_MS for the sum of the 1,000 counters over the last 5 minutes at 1 s resolution
    // (300,000 points read per request), never more than one request in flight per client
    let rendering = true;
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    const target = encodeURIComponent('sumSeries(stats_counts.soak.c.*)');
    const client = async () => {
      while (rendering) {
        const t0 = performance.now();
        const r = await fetch(`${proc.httpUrl}/render?target=${target}&from=-5min&format=json`);
        await r.arrayBuffer();
        const ms = performance.now() - t0;
        latencies.push(ms);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, Math.max(0, RENDER_EVERY_MS - ms)));
      }
    };
    const loops = Array.from({ length: RENDER_CLIENTS }, client);
    // when the kernel dropped, second by second: a burst at start (a cold process) and drops spread
    // over the whole run (a thread short of CPU) have different causes
    const dropsBySecond: Array<[number, number]> = [];
    let lastKernel = kernelBefore;
    const t0 = performance.now();
    const sampler = setInterval(() => {
      void input().then((i) => {
        const k = i.gauges.kernel_rcvbuf_errors ?? 0;
        if (k > lastKernel && dropsBySecond.length < 30) dropsBySecond.push([Math.round((performance.now() - t0) / 1000), k - lastKernel]);
        lastKernel = Math.max(lastKernel, k);
      }, () => undefined);
    }, 1000);
    const senderExit = await senderDone;
    clearInterval(sampler);
    assert.equal(senderExit, 0, 'sender failed');
    const { sent, seconds } = JSON.parse(out.trim()) as { sent: number; seconds: number };
    rendering = false;
    await Promise.all(loops);
    const cpu = cpuSeconds(proc.pid) - cpuBefore;

    // everything the kernel delivered has been read once the counter stops moving
    let received = -1;
    await waitFor(async () => {
      const now = (await input()).counters.metrics_received ?? 0;
      const settled = now === received;
      received = now;
      return settled;
    }, 'metrics_received to settle', 10_000, 300);
    const kernelDrops = ((await input()).gauges.kernel_rcvbuf_errors ?? 0) - kernelBefore;
    latencies.sort((a, b) => a - b);
    const report = {
      sent,
      send_rate: Math.round(sent / seconds),
      received,
      drop_rate: (sent - received) / sent,
      kernel_rcvbuf_errors: kernelDrops,
      renders: latencies.length,
      render_p99_ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
      carbonado_cpu_percent: Math.round((100 * cpu) / seconds),
      kernel_drops_by_second: dropsBySecond,
    };
    process.stderr.write(`udp-soak: ${JSON.stringify(report)}\n`);

    assert.ok(report.send_rate >= RATE * 0.95, `the sender reached only ${report.send_rate} datagrams/s: not the documented load`);
    assert.ok(report.drop_rate < MAX_DROP, `drop rate ${(report.drop_rate * 100).toFixed(2)} % (kernel RcvbufErrors +${kernelDrops})`);
    assert.deepEqual([...statuses.keys()], [200], `render statuses: ${JSON.stringify([...statuses])}`);
    // at least half the requests the clients would make if every render were instant
    assert.ok(latencies.length >= (SECONDS * RENDER_CLIENTS * 1000) / RENDER_EVERY_MS / 2, `only ${latencies.length} renders completed`);

    // no loss after the socket: the flushed counts add up to what was received
    type Series = Array<{ datapoints: Array<[number | null, number]> }>;
    let total = 0;
    await waitFor(async () => {
      const until = Math.floor(Date.now() / 1000) + 5;
      const body = (await (await fetch(`${proc.httpUrl}/render?target=${target}&from=${from}&until=${until}&format=json`)).json()) as Series;
      total = (body[0]?.datapoints ?? []).reduce((a, [v]) => a + (v ?? 0), 0);
      return total === received;
    }, `flushed counts to add up to ${received}`, 10_000, 250).catch(() => undefined);
    assert.equal(total, received, 'counter increments read back through /render');
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
});
