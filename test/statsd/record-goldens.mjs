#!/usr/bin/env node
// Re-records the StatsD golden files in test/statsd/goldens/ against the real Etsy statsd 0.9.0.
//
//   node test/statsd/record-goldens.mjs [STATSD_PKG_DIR] [scenario-name-substring...]
//
// Without STATSD_PKG_DIR (a directory holding stats.js), `npm install statsd@0.9.0` runs into a
// temporary folder first. For each scenario of scenarios.json, one statsd process runs with the
// scenario's config, flushing every second through its graphite backend to a TCP capture socket.
// The first flush (no input yet) is recorded; then each round's packets go out as UDP datagrams
// right after a flush ends, so they all land in the next flush, which is recorded. The goldens
// hold the (name, value) pairs exactly as statsd wrote them.
import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let pkg = args[0] && existsSync(join(args[0], 'stats.js')) ? args.shift() : undefined;
const filters = args;
let tmpInstall;
if (!pkg) {
  tmpInstall = mkdtempSync(join(tmpdir(), 'etsy-statsd-'));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', tmpInstall, 'statsd@0.9.0'], { stdio: 'inherit' });
  pkg = join(tmpInstall, 'node_modules', 'statsd');
}
const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
const scenarios = JSON.parse(readFileSync(join(here, 'scenarios.json'), 'utf8')).filter(
  (s) => filters.length === 0 || filters.some((f) => s.name.includes(f)),
);
const outDir = join(here, 'goldens');
mkdirSync(outDir, { recursive: true });

async function freePort(type) {
  if (type === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    const p = s.address().port;
    await new Promise((r) => s.close(r));
    return p;
  }
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const p = srv.address().port;
  await new Promise((r) => srv.close(r));
  return p;
}

async function record(sc) {
  const flushes = [];
  let waiter;
  const capture = net.createServer((sock) => {
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => (text += d));
    sock.on('end', () => {
      flushes.push(text);
      if (waiter) waiter();
    });
  });
  await new Promise((r) => capture.listen(0, '127.0.0.1', r));
  const sinkPort = capture.address().port;
  const udpPort = await freePort('udp');
  const mgmtPort = await freePort('tcp');
  const dir = mkdtempSync(join(tmpdir(), 'statsd-golden-'));
  const cfg = {
    address: '127.0.0.1',
    port: udpPort,
    mgmt_address: '127.0.0.1',
    mgmt_port: mgmtPort,
    flushInterval: 1000,
    backends: ['./backends/graphite'],
    graphiteHost: '127.0.0.1',
    graphitePort: sinkPort,
    automaticConfigReload: false,
    ...sc.config,
  };
  writeFileSync(join(dir, 'config.js'), `(${JSON.stringify(cfg)})`);
  const child = spawn(process.execPath, [join(pkg, 'stats.js'), join(dir, 'config.js')], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const nextFlush = (n) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${sc.name}: no flush ${n} within 5 s\n${log}`)), 5000);
      waiter = () => {
        if (flushes.length >= n) {
          clearTimeout(t);
          waiter = undefined;
          resolve();
        }
      };
      waiter();
    });
  const udp = dgram.createSocket('udp4');
  try {
    await nextFlush(1);
    const rounds = [...sc.rounds, ...Array.from({ length: sc.idleFlushes ?? 0 }, () => [])];
    for (let i = 0; i < rounds.length; i++) {
      for (const p of rounds[i]) await new Promise((r, j) => udp.send(Buffer.from(p, 'utf8'), udpPort, '127.0.0.1', (e) => (e ? j(e) : r())));
      await nextFlush(i + 2);
    }
  } finally {
    udp.close();
    child.kill();
    capture.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const parsed = flushes.map((text) =>
    text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const parts = l.split(' ');
        return [parts.slice(0, -2).join(' '), parts[parts.length - 2]];
      }),
  );
  return { name: sc.name, description: sc.description ?? '', recordedWith: `statsd ${version}`, config: sc.config, rounds: sc.rounds, idleFlushes: sc.idleFlushes ?? 0, flushes: parsed };
}

const queue = [...scenarios];
const parallel = 6;
let failed = 0;
await Promise.all(
  Array.from({ length: parallel }, async () => {
    for (let sc = queue.shift(); sc; sc = queue.shift()) {
      try {
        const g = await record(sc);
        writeFileSync(join(outDir, `${sc.name}.json`), `${JSON.stringify(g, null, 1)}\n`);
        console.error(`recorded ${sc.name}: ${g.flushes.length} flushes`);
      } catch (err) {
        failed++;
        console.error(`FAILED ${sc.name}: ${err.message}`);
      }
    }
  }),
);
if (tmpInstall) rmSync(tmpInstall, { recursive: true, force: true });
console.log(JSON.stringify({ recorded: scenarios.length - failed, failed }));
process.exit(failed > 0 ? 1 : 0);
