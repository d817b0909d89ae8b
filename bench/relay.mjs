#!/usr/bin/env node
// bench/relay: points/s through a relaying carbonado (carbon_line in → carbon_relay out, carbon_ch
// over three destinations with instances) at replication 1 and 2, and in the same run Debian's
// carbon-c-relay on the same load and ring. Destinations are in-process TCP sinks that count
// newlines; the figure is points / (first byte sent → last copy received by the sinks). Python
// carbon-relay 1.1.7 (Debian graphite-carbon) runs on a smaller load (--py-points) as the slow anchor.
// Prints one JSON line. Options: --points 2000000 --py-points 200000 --series 10000 --conns 1
// --method carbon_ch
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep, startCarbonado } from './lib/harness.mjs';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((s) => s.trim().split(/\s+/)).map(([k, v]) => [k, v]));
const total = Number(args.points ?? 2_000_000);
const series = Number(args.series ?? 10_000);
const conns = Number(args.conns ?? 1);
const method = args.method ?? 'carbon_ch';
const pyPoints = Number(args['py-points'] ?? 200_000);
const TIMEOUT_MS = 180_000;

function count10(buf) {
  let n = 0;
  for (let k = buf.indexOf(10); k >= 0; k = buf.indexOf(10, k + 1)) n++;
  return n;
}

/** Three newline-counting sinks. */
async function startSinks() {
  const sinks = [];
  for (let i = 0; i < 3; i++) {
    const sink = { lines: 0, last: 0, server: createServer() };
    sink.server.on('connection', (s) => {
      s.on('error', () => {});
      s.on('data', (d) => {
        let n = 0;
        for (let k = d.indexOf(10); k >= 0; k = d.indexOf(10, k + 1)) n++;
        sink.lines += n;
        sink.last = Date.now();
      });
    });
    sink.server.listen(0, '127.0.0.1');
    await once(sink.server, 'listening');
    sink.port = sink.server.address().port;
    sinks.push(sink);
  }
  return sinks;
}

/** The load: `total` lines over `conns` connections, pre-encoded so the generator is cheap. */
function buildLoad(total) {
  const ts = Math.floor(Date.now() / 1000 / 60) * 60 - 3600;
  const parts = Array.from({ length: conns }, () => []);
  for (let i = 0; i < total; i++) {
    const s = i % series;
    parts[s % conns].push(`bench.relay.h${s % 100}.m${s} ${i % 1000} ${ts + Math.floor(i / series) * 10}\n`);
  }
  return parts.map((p) => Buffer.from(p.join('')));
}

async function blast(port, bufs, label) {
  const start = Date.now();
  await Promise.all(
    bufs.map(async (buf) => {
      const sock = connect({ host: '127.0.0.1', port });
      sock.on('error', (err) => console.error(`blast to ${label} (${port}): ${err.message}`));
      await once(sock, 'connect');
      for (let o = 0; o < buf.length; o += 1 << 16) {
        if (!sock.write(buf.subarray(o, Math.min(buf.length, o + (1 << 16))))) await once(sock, 'drain');
      }
      sock.end();
      await once(sock, 'close');
    }),
  );
  return start;
}

async function measure(label, port, sinks, replication, bufs, total = bufs.reduce((a, b) => a + count10(b), 0)) {
  let start;
  let attempts = 1;
  // one retry: under a loaded machine a daemon may still be settling when the first bytes come
  for (let attempt = 1; ; attempt++) {
    for (const s of sinks) s.lines = 0;
    try {
      start = await blast(port, bufs, label);
      break;
    } catch (err) {
      if (attempt === 2) return { error: `${label}: ${err.message}` };
      attempts = 2;
      await sleep(2000);
    }
  }
  const want = total * replication;
  const deadline = Date.now() + TIMEOUT_MS;
  while (sinks.reduce((a, s) => a + s.lines, 0) < want && Date.now() < deadline) await sleep(20);
  const got = sinks.reduce((a, s) => a + s.lines, 0);
  const end = Math.max(...sinks.map((s) => s.last));
  return { points_s: Math.round(total / ((end - start) / 1000)), delivered: got, expected: want, seconds: (end - start) / 1000, ...(attempts > 1 ? { attempts } : {}) };
}

async function carbonado(sinks, replication, bufs) {
  const spillDir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const c = await startCarbonado({
    http: { host: '127.0.0.1', port: 0 },
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: {
      relay: {
        type: 'carbon_relay',
        method,
        replication,
        replicaPlacement: 'ring_order',
        destinations: sinks.map((s, i) => `127.0.0.1:${s.port}=${'abc'[i]}`),
        memoryQueuePoints: 4_000_000,
        spillDir,
      },
    },
  });
  const port = Number(/started inputs\.carbon \(carbon_line\) tcp:\/\/[^ ]+:(\d+)/.exec(c.log())[1]);
  await sleep(300);
  const r = await measure('carbonado', port, sinks, replication, bufs);
  const st = (await c.stats()).instances?.['stores.relay'];
  await c.stop();
  rmSync(spillDir, { recursive: true, force: true });
  return { ...r, dropped: st?.droppedTotal ?? null };
}

async function cRelay(sinks, replication, bufs) {
  if (spawnSync('sh', ['-c', 'command -v carbon-c-relay']).status !== 0) return { skipped: 'carbon-c-relay not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-c-'));
  const conf = join(dir, 'relay.conf');
  writeFileSync(conf, `cluster g ${method} replication ${replication}\n  ${sinks.map((s, i) => `127.0.0.1:${s.port}=${'abc'[i]}`).join('\n  ')};\nmatch * send to g stop;\n`);
  const port = await freePort();
  const logFile = join(tmpdir(), `relay-bench-c-relay-${process.pid}.log`);
  const p = spawn('carbon-c-relay', ['-f', conf, '-p', String(port), '-s', '-w', '2', '-q', '4000000', '-l', logFile], { stdio: 'ignore' });
  p.on('exit', (code, sig) => {
    if (code !== 0) console.error(`carbon-c-relay exited: ${code ?? sig} (log ${logFile})`);
  });
  // carbon-c-relay 3.7.3 can crash (SIGSEGV) when a client connects before its workers have
  // started, so wait for its own "startup sequence complete" instead of probing the port
  for (let i = 0; i < 400 && !(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('startup sequence complete')); i++) await sleep(50);
  const r = await measure('carbon-c-relay', port, sinks, replication, bufs);
  if (p.exitCode === null && p.signalCode === null) {
    p.kill('SIGTERM');
    await once(p, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(logFile, { force: true });
  return r;
}

async function pythonRelay(sinks, replication, bufs) {
  if (spawnSync('sh', ['-c', 'command -v carbon-relay']).status !== 0) return { skipped: 'graphite-carbon not installed' };
  if (method !== 'carbon_ch') return { skipped: 'Python carbon-relay has no ' + method };
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-py-'));
  const port = await freePort();
  const dirs = ['storage', 'log', 'run', 'lists'].map((d) => join(dir, d));
  for (const d of dirs) spawnSync('mkdir', ['-p', d]);
  writeFileSync(
    join(dir, 'carbon.conf'),
    [
      '[cache]',
      `STORAGE_DIR = ${dir}/storage/`,
      `LOCAL_DATA_DIR = ${dir}/storage/`,
      `WHITELISTS_DIR = ${dir}/lists/`,
      `CONF_DIR = ${dir}/`,
      `LOG_DIR = ${dir}/log/`,
      `PID_DIR = ${dir}/run/`,
      'ENABLE_LOGROTATION = False',
      'USER =',
      '[relay]',
      'LINE_RECEIVER_INTERFACE = 127.0.0.1',
      `LINE_RECEIVER_PORT = ${port}`,
      'PICKLE_RECEIVER_INTERFACE = 127.0.0.1',
      `PICKLE_RECEIVER_PORT = ${await freePort()}`,
      'RELAY_METHOD = consistent-hashing',
      `REPLICATION_FACTOR = ${replication}`,
      'DIVERSE_REPLICAS = False',
      `DESTINATIONS = ${sinks.map((s, i) => `127.0.0.1:${s.port}:${'abc'[i]}`).join(', ')}`,
      'DESTINATION_PROTOCOL = line',
      'MAX_QUEUE_SIZE = 100000000',
      'MAX_DATAPOINTS_PER_MESSAGE = 500',
      'USE_FLOW_CONTROL = True',
      'CARBON_METRIC_INTERVAL = 0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'storage-schemas.conf'), '[default]\npattern = .*\nretentions = 60s:1d\n');
  const p = spawn('/usr/bin/python3', ['/usr/bin/carbon-relay', `--config=${join(dir, 'carbon.conf')}`, '--nodaemon', 'start'], { stdio: 'ignore', env: { ...process.env, GRAPHITE_ROOT: dir } });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await sleep(50);
  }
  await sleep(500);
  const r = await measure('carbon-relay', port, sinks, replication, bufs);
  if (p.exitCode === null && p.signalCode === null) {
    p.kill('SIGTERM');
    await once(p, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
  return r;
}

const sinks = await startSinks();
const bufs = buildLoad(total);
const pyBufs = buildLoad(Math.min(pyPoints, total));
const out = { bench: 'relay', method, points: total, series, conns };
for (const rf of [1, 2]) {
  const ours = await carbonado(sinks, rf, bufs);
  const theirs = await cRelay(sinks, rf, bufs);
  const python = await pythonRelay(sinks, rf, pyBufs);
  out[`carbonado_r${rf}`] = ours;
  out[`c_relay_r${rf}`] = theirs;
  out[`carbon_relay_py_r${rf}`] = python;
  if (theirs.points_s) out[`vs_c_relay_r${rf}`] = Number((ours.points_s / theirs.points_s).toFixed(2));
  if (python.points_s) out[`vs_carbon_relay_py_r${rf}`] = Number((ours.points_s / python.points_s).toFixed(1));
}
for (const s of sinks) s.server.close();
console.log(JSON.stringify(out));
process.exit(0);
