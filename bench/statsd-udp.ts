// StatsD over UDP: the highest send rate at which >= 99.9 % of lines are accounted for, for carbonado
// (its own metrics_received, read from GET /stats) and, in the same run, Etsy statsd 0.9.0 (its
// flushed statsd.metrics_received, via the shared anchor script). Both flush every second.
// Cases: 1,000 keys packed, 100,000 keys packed, 1,000 keys one line per datagram; and
// whisper-render-100k: one 20 s trial at 100,000 lines/s with the whisper store persisting 10 s
// flushes and a /render loop running, accounted by lines parsed and by counters read back via /render.
// Prints ONE JSON line; trial logs go to stderr and the results dir.
//
//   node --import tsx bench/statsd-udp.ts [--etsy-pkg DIR | --skip-etsy] [--cases packed-1000,packed-100000,single-1000]
//        [--trial-s 6] [--bisect-steps 3] [--out DIR] [--shared ../shared/bench]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnCarbonado, portOf, REPO_ROOT } from '../test/helpers/carbonado.js';

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1]! : d;
};
const shared = resolve(opt('shared', join(REPO_ROOT, '..', 'shared', 'bench')));
const trialS = opt('trial-s', '6');
const bisect = opt('bisect-steps', '3');
const outDir = opt('out', mkdtempSync(join(tmpdir(), 'statsd-udp-bench-')));
mkdirSync(outDir, { recursive: true });
const cases = opt('cases', 'packed-1000,packed-100000,single-1000').split(',');
const skipEtsy = argv.includes('--skip-etsy');
const pkg = skipEtsy ? '' : etsyPackage();

interface Case {
  readonly id: string;
  readonly names: number;
  readonly linesPerPacket: number;
  readonly startRate: number;
  /** a fixed-rate trial with the whisper store and graphite_render, while a /render loop runs */
  readonly whisper?: boolean;
}
const CASES: Record<string, Case> = {
  'packed-1000': { id: 'packed-1000', names: 1000, linesPerPacket: 0, startRate: 200_000 },
  'packed-100000': { id: 'packed-100000', names: 100_000, linesPerPacket: 0, startRate: 50_000 },
  'single-1000': { id: 'single-1000', names: 1000, linesPerPacket: 1, startRate: 20_000 },
  'whisper-render-100k': { id: 'whisper-render-100k', names: 1000, linesPerPacket: 0, startRate: 100_000, whisper: true },
};

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${cmd} exited ${code}`))));
  });
}

function lastJson(out: string): Record<string, unknown> {
  return JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
}

function maxrateArgs(c: Case): string[] {
  return [
    '--names', String(c.names), '--lines-per-packet', String(c.linesPerPacket), '--trial-s', trialS,
    '--bisect-steps', bisect, '--start-rate', String(c.startRate), '--settle-quiet-s', '2.5', '--max-total-s', '600',
  ];
}

async function carbonado(c: Case): Promise<Record<string, unknown>> {
  const cb = await spawnCarbonado({
    log: { level: 'info' },
    inputs: { statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
    // Etsy's anchor flushes every second; the whisper case runs the default 10 s (whisper's 10 s slots)
    aggregators: { statsd: { type: 'statsd', flushIntervalMs: c.whisper ? 10_000 : 1000 } },
    ...(c.whisper
      ? {
          stores: { whisper: { type: 'whisper', dataDir: mkdtempSync(join(tmpdir(), 'statsd-bench-whisper-')) } },
          outputs: { graphite: { type: 'graphite_render' } },
        }
      : {}),
  });
  try {
    const { port } = portOf(cb.listening('inputs.statsd'), 'udp');
    // statsd-maxrate addresses JSON by dotted path and GET /stats keys instances by `inputs.statsd`
    // (a dot in the key), so a small relay re-serves the one counter under a plain path
    const relay = http.createServer(async (_req, res) => {
      try {
        const j = (await (await fetch(`${cb.httpUrl}/stats`)).json()) as { instances: Record<string, { counters: Record<string, number> }> };
        const out: Record<string, number> = { metrics_received: j.instances['inputs.statsd']?.counters.metrics_received ?? 0 };
        if (c.whisper) out.counters_rendered = await renderedCounterSum(cb.httpUrl);
        res.end(JSON.stringify(out));
      } catch (err) {
        res.statusCode = 502;
        res.end(String(err));
      }
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const relayUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}/`;
    const args = [
      join(shared, 'statsd-maxrate.js'), '--port', String(port), '--stats-url', relayUrl,
      '--check', 'recv=metrics_received:sent_lines',
      '--pids', String(cb.pid), '--label', `carbonado-${c.id}`, '--out', join(outDir, 'statsd-trials.jsonl'), ...maxrateArgs(c),
    ];
    if (!c.whisper) {
      const before = await kernelDrops(cb.httpUrl);
      const out = await run(process.execPath, args);
      relay.close();
      // host-wide UDP receive-buffer overflows during the whole search (all trials, all sockets)
      return { ...lastJson(out), kernel_rcvbuf_errors: (await kernelDrops(cb.httpUrl)) - before };
    }
    // one trial at the fixed rate (max = start), accounted twice: lines parsed, and the flushed
    // counter totals read back through /render from the whisper store; a render loop runs meanwhile
    args.push('--check', 'counters=counters_rendered:counter_sum', '--max-rate', String(c.startRate), '--trial-s', '20', '--settle-quiet-s', '12', '--settle-max-s', '60');
    const probe = run(process.execPath, [
      join(shared, 'render-probe.js'), '--url', cb.httpUrl, '--target', 'sumSeries(stats_counts.bench.c.*)', '--target', 'stats.timers.bench.ms.n1.upper_90',
      '--from', '-10min', '--requests', '100000', '--concurrency', '2', '--duration-max', '45',
    ]);
    const out = await run(process.execPath, args);
    relay.close();
    const render = lastJson(await probe);
    return { ...lastJson(out), render };
  } finally {
    cb.kill('SIGTERM');
    await cb.exited;
  }
}

async function kernelDrops(httpUrl: string): Promise<number> {
  const j = (await (await fetch(`${httpUrl}/stats`)).json()) as { instances: Record<string, { gauges: Record<string, number> }> };
  return j.instances['inputs.statsd']?.gauges.kernel_rcvbuf_errors ?? -1;
}

/** Σ of every flushed bench counter, read back through /render (the whisper store's query side). */
async function renderedCounterSum(httpUrl: string): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const r = await fetch(`${httpUrl}/render?target=sumSeries(stats_counts.bench.c.*)&from=${now - 3600}&until=${now + 60}&format=json`);
  const body = (await r.json()) as Array<{ datapoints: Array<[number | null, number]> }>;
  let sum = 0;
  for (const s of body) for (const [v] of s.datapoints) sum += v ?? 0;
  return sum;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function etsyPackage(): string {
  const given = argv.includes('--etsy-pkg') ? opt('etsy-pkg', '') : '';
  if (given && existsSync(join(given, 'stats.js'))) return given;
  const dir = mkdtempSync(join(tmpdir(), 'etsy-statsd-'));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', dir, 'statsd@0.9.0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return join(dir, 'node_modules', 'statsd');
}

async function etsy(pkg: string, c: Case): Promise<Record<string, unknown>> {
  // free ports so that parallel runs by others on the same machine do not collide
  const env = { UDP_PORT: String(await freeUdpPort()), MGMT_PORT: String(20000 + Math.floor(Math.random() * 20000)), SINK_PORT: String(20000 + Math.floor(Math.random() * 20000)) };
  const dir = join(outDir, `etsy-${c.id}`);
  const out = await run('bash', [join(shared, 'anchors', 'run-statsd-anchor.sh'), pkg, dir, String(c.names), '1', ...maxrateArgs(c)], env);
  return lastJson(out);
}

const results: Record<string, unknown>[] = [];
for (const id of cases) {
  const c = CASES[id];
  if (!c) throw new Error(`unknown case ${id}`);
  const ours = await carbonado(c);
  const theirs = skipEtsy || c.whisper ? undefined : await etsy(pkg, c);
  const a = Number(ours.max_lossless_rate ?? 0);
  const b = theirs ? Number(theirs.max_lossless_rate ?? 0) : 0;
  results.push({
    case: c.id,
    names: c.names,
    lines_per_packet: c.linesPerPacket,
    carbonado: { max_lossless_lines_s: a, at_max: ours.at_max, first_failing_rate: ours.first_failing_rate, kernel_rcvbuf_errors: ours.kernel_rcvbuf_errors, ...(ours.render ? { failing: ours.failing, render: ours.render } : {}) },
    ...(theirs ? { etsy: { max_lossless_lines_s: b, at_max: theirs.at_max, first_failing_rate: theirs.first_failing_rate }, ratio: b > 0 ? Math.round((a / b) * 10) / 10 : null } : {}),
  });
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
console.log(JSON.stringify({ bench: 'statsd-udp', trial_s: Number(trialS), results, loadavg_end: load, out: outDir, node: process.version }));
