#!/usr/bin/env node
// bench/carbon-line: Carbon plaintext lines/s through carbon_line's parser onto the bus, with a
// store that only counts, over TCP (carbon-blast from the shared harness) and UDP; and in the same
// run the raw ceiling: the shared harness's TCP line counter (no parsing) fed the same load.
// Prints one JSON line. Options: --series 10000 --points 600 --udp-lines 2000000 --runs 1
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { REPO, SHARED_BENCH, freePort, runJson, sleep, startCarbonado, procSample } from './lib/harness.mjs';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((s) => s.trim().split(/\s+/)).map(([k, v]) => [k, v]));
const series = Number(args.series ?? 10000);
const points = Number(args.points ?? 600);
const udpLines = Number(args['udp-lines'] ?? 2_000_000);
const total = series * points;
const blast = join(SHARED_BENCH, 'carbon-blast.js');

async function rawCeiling() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-ref-'));
  const statsFile = join(dir, 'sink.json');
  const sink = spawn(process.execPath, [join(SHARED_BENCH, 'sinks', 'tcp-line-count.js'), '--port', String(port), '--stats-file', statsFile, '--max-seconds', '300'], { stdio: 'ignore' });
  await sleep(500);
  const b = await runJson(blast, ['--port', String(port), '--mode', 'plain', '--series', String(series), '--points', String(points), '--prefix', 'bench.ref']);
  let s;
  for (;;) {
    s = JSON.parse(readFileSync(statsFile, 'utf8'));
    if (s.lines >= total) break;
    await sleep(50);
  }
  sink.kill('SIGTERM');
  return { lines: s.lines, lines_per_s: Math.round(s.lines / ((s.last_ms - b.start_ms) / 1000)) };
}

async function carbonadoTcp() {
  const c = await startCarbonado({
    http: { host: '127.0.0.1', port: 0 },
    plugins: [join(REPO, 'bench', 'lib', 'counting-store.mjs')],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp+udp' } },
    stores: { count: { type: 'counting_store' } },
  });
  const port = Number(/started inputs\.carbon \(carbon_line\) tcp:\/\/[^ ]+:(\d+)/.exec(c.log())[1]);
  const cpu0 = procSample(c.pid);
  const b = await runJson(blast, ['--port', String(port), '--mode', 'plain', '--series', String(series), '--points', String(points), '--prefix', 'bench.cl']);
  let st;
  for (;;) {
    st = (await c.stats()).instances['stores.count'];
    if (st.gauges.points >= total) break;
    await sleep(20);
  }
  const cpu1 = procSample(c.pid);
  const tcp = {
    lines: st.gauges.points,
    lines_per_s: Math.round(total / ((st.gauges.last_ms - b.start_ms) / 1000)),
    cpu_secs: +(cpu1.cpuSecs - cpu0.cpuSecs).toFixed(2),
    rss_mb: Math.round(cpu1.rss / 1e6),
    dropped: (await c.stats()).instances['inputs.carbon'].droppedTotal,
  };
  // UDP: packed datagrams of about 1400 bytes, as fast as the socket sends; count what arrives
  const udp = await udpRun(port, c);
  await c.stop();
  return { tcp, udp };
}

async function udpRun(port, c) {
  const sock = createSocket('udp4');
  const before = (await c.stats()).instances['stores.count'].gauges.points;
  const datagrams = [];
  for (let d = 0; d < 64; d++) {
    let s = '';
    let n = 0;
    while (s.length < 1400) s += `bench.udp.s${(d * 37 + n++) % 1000} ${n} 1700000000\n`;
    datagrams.push({ buf: Buffer.from(s), n });
  }
  let sent = 0;
  const t0 = Date.now();
  let i = 0;
  while (sent < udpLines) {
    const d = datagrams[i++ % datagrams.length];
    await new Promise((r) => sock.send(d.buf, port, '127.0.0.1', r));
    sent += d.n;
  }
  const sendMs = Date.now() - t0;
  sock.close();
  let got = 0;
  let stable = 0;
  for (let last = -1; stable < 5; ) {
    await sleep(100);
    got = (await c.stats()).instances['stores.count'].gauges.points - before;
    stable = got === last ? stable + 1 : 0;
    last = got;
  }
  return { sent, received: got, loss_ratio: +(1 - got / sent).toFixed(4), received_lines_per_s: Math.round(got / (sendMs / 1000)) };
}

const ref = await rawCeiling();
const res = await carbonadoTcp();
console.log(
  JSON.stringify({
    bench: 'carbon-line',
    series,
    points_per_series: points,
    lines: total,
    carbonado_tcp_lines_per_s: res.tcp.lines_per_s,
    carbonado_tcp: res.tcp,
    carbonado_udp: res.udp,
    raw_tcp_line_counter_lines_per_s: ref.lines_per_s,
    ratio_to_raw: +(res.tcp.lines_per_s / ref.lines_per_s).toFixed(3),
    target_lines_per_s: 1_500_000,
  }),
);
