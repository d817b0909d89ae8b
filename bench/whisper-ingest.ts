/**
 * bench/whisper-ingest: Carbon plaintext → carbon_line → whisper store, end to end, verified on disk
 * by the shared harness (carbon-run.js reads every point back from the .wsp files).
 *
 *   node --import tsx bench/whisper-ingest.ts [--loads 10000x60,10000x600] [--anchors carbon,vm] [--runs 1]
 *        [--durability wal|none] [--scratch DIR] [--profile DIR] [--from source|build] [--store-options JSON]
 *        [--node-args '--flag ...'] [--readable disk,render]
 *
 * Each load runs against a fresh carbonado (spawned, so CPU and RSS are its own) and, when asked,
 * against carbon-cache and VictoriaMetrics launched from ../shared/bench/anchors in the same run.
 * While carbonado ingests, GET /stats is polled every 50 ms: its latency shows how long the event
 * loop is blocked by the persister. Prints ONE JSON line.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnCarbonado, portOf } from '../test/helpers/carbonado.js';
import { SHARED_DIR } from '../test/helpers/peers.js';

const HARNESS = resolve(process.env.CARBONADO_BENCH_HARNESS ?? join(SHARED_DIR, 'bench'));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  // an empty value counts (`--anchors ''` runs no anchor)
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const loads = arg('loads', '10000x60,10000x600').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const anchors = arg('anchors', 'carbon,vm').split(',').filter(Boolean);
const runs = Number(arg('runs', '1'));
/** 'wal' (default) or 'none': what the write-ahead log costs */
const durability = arg('durability', 'wal');
/**
 * Every run writes into its own directory under one scratch root (--scratch, default the OS temp
 * directory), removed when the bench is over. Where the scratch root lives matters: on an ext4
 * WITHOUT a journal (as on this project's machines) the kernel skips inodes freed in the last 5 s,
 * or 5 min while their inode-table block is dirty, when it allocates new ones in the same block
 * group, scanning past each of them; after any mass deletion (a test suite, the previous run),
 * creating a file then costs 0.5-1.3 ms of kernel CPU instead of ~40 µs, for carbon-cache and
 * carbonado alike, and whichever ran after a deletion paid most. docs/performance.md shows how to
 * give the bench a journaled ext4 (a loop mount) instead. Nothing is deleted between runs, and the
 * root gets the top-directory attribute (chattr +T) when it can, spreading runs over block groups.
 */
const scratchRoot = mkdtempSync(join(resolve(arg('scratch', tmpdir())), 'whisper-ingest-'));
try {
  execFileSync('chattr', ['+T', scratchRoot], { stdio: 'ignore' });
} catch {
  process.stderr.write('whisper-ingest: chattr +T failed (not ext4?)\n');
}
const scratchFs = (() => {
  try {
    return execFileSync('df', ['--output=fstype,source', scratchRoot]).toString().split('\n')[1]!.trim().replace(/\s+/g, ' ');
  } catch {
    return 'unknown';
  }
})();
const scratchDir = (prefix: string): string => mkdtempSync(join(scratchRoot, prefix));
/** --profile DIR: carbonado writes V8 CPU profiles (one per thread) into DIR */
const profileDir = arg('profile', '');
/** --store-options JSON: merged into the whisper store's options (e.g. '{"persistThreads":1}') */
const storeOptions = JSON.parse(arg('store-options', '{}')) as Record<string, unknown>;
/** --from source|build: run carbonado from the TypeScript sources (tsx) or from dist/ (`npm run build` first), as `npm start` does */
const from = arg('from', 'source');
/** --node-args '--flag --flag2': extra Node/V8 flags for carbonado (e.g. GC experiments) */
const nodeArgs = arg('node-args', '').split(' ').filter(Boolean);
/**
 * --readable disk,render: which checks of carbonado to run (see runCarbonado); both by default.
 * 'render' with 10k x 600 makes every poll a 6M-point JSON answer (~150 MB): its figure is then
 * mostly the time /render takes to build that answer, not how long points take to become readable.
 */
const readable = arg('readable', 'disk,render').split(',').filter(Boolean);

interface CarbonRun {
  e2e_points_s: number | null;
  accept_points_s: number;
  readable_after_s: number;
  daemon_cpu_s: number | null;
  daemon_rss_mb_max: number | null;
  ready: boolean;
  [k: string]: unknown;
}

function carbonRun(args: string[]): Promise<CarbonRun> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(HARNESS, 'carbon-run.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      try {
        res(JSON.parse(out.trim().split('\n').pop()!));
      } catch {
        rej(new Error(`carbon-run exited ${code}: ${out}`));
      }
    });
  });
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function pick(r: CarbonRun): Record<string, unknown> {
  return {
    e2e_points_s: r.e2e_points_s,
    accept_points_s: r.accept_points_s,
    readable_after_s: r.readable_after_s,
    cpu_s: r.daemon_cpu_s,
    rss_mb: r.daemon_rss_mb_max,
    ok: r.ready,
  };
}

/**
 * `via`: how the points are checked. 'disk' (the figure of merit, comparable with the anchors):
 * the shared verifier reads every point from the .wsp files. 'render': it asks carbonado's own
 * /render for them (one `<prefix>.*` request per poll, after the last byte), which answers from
 * the write-back cache and the files together: the time until every point is readable through
 * fetch. A separate carbonado per run, so neither check disturbs the other's figures.
 */
async function runCarbonado(series: number, points: number, tag: string, via: 'disk' | 'render' = 'disk'): Promise<Record<string, unknown>> {
  const dir = scratchDir('carbonado-');
  const dataDir = join(dir, 'whisper');
  const proc = await spawnCarbonado({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    ...(via === 'render' ? { outputs: { graphite: { type: 'graphite_render' } } } : {}),
    stores: {
      main: {
        type: 'whisper',
        dataDir,
        // the carbon anchor's rules (anchors/carbon/storage-*.conf), for a like-for-like file size
        schemas: [{ name: 'bench', pattern: '.*', retentions: '10s:1d' }],
        aggregation: [{ name: 'avg', pattern: '.*', xFilesFactor: 0, aggregationMethod: 'average' }],
        durability,
        ...storeOptions,
      },
    },
  }, { fromBuild: from === 'build', nodeArgs: [...nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [])] });
  const port = portOf(proc.listening('inputs.carbon'), 'tcp').port;
  process.stderr.write(`whisper-ingest: carbonado pid ${proc.pid} port ${port}, ${series}x${points}\n`);
  // event-loop responsiveness: latency of a trivial HTTP request during the whole run
  const lat: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      try {
        await (await fetch(`${proc.httpUrl}/stats`)).arrayBuffer();
        lat.push(performance.now() - t0);
      } catch {
        /* shutting down */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const threadsBefore = threadCpu(proc.pid);
  let r: CarbonRun;
  let stats: { instances: Record<string, { gauges: Record<string, number>; counters: Record<string, number> }> };
  let threads: string[];
  try {
    r = await carbonRun([
      '--port', String(port), '--mode', 'plain', '--series', String(series), '--points', String(points),
      '--prefix', `bench.w${tag}`, '--pids', String(proc.pid), '--timeout', '600',
      ...(via === 'disk' ? ['--verify', 'whisper', '--whisper-dir', dataDir] : ['--verify', 'render', '--url', proc.httpUrl]),
    ]);
    polling = false;
    await poller;
    stats = (await (await fetch(`${proc.httpUrl}/stats`)).json()) as typeof stats;
    threads = threadCpuDelta(threadsBefore, threadCpu(proc.pid));
  } finally {
    // a failed run must not leave carbonado behind
    polling = false;
    proc.kill('SIGTERM');
    await proc.exited;
  }
  const du = Number(execFileSync('du', ['-sk', dataDir]).toString().split('\t')[0]);
  lat.sort((a, b) => a - b);
  const st = stats.instances['stores.main']!;
  return {
    ...pick(r),
    http_latency_ms_p50: Math.round(lat[Math.floor(lat.length * 0.5)] ?? 0),
    http_latency_ms_p99: Math.round(lat[Math.floor(lat.length * 0.99)] ?? 0),
    http_latency_ms_max: Math.round(lat[lat.length - 1] ?? 0),
    updates: st.counters.update_operations,
    points_per_update: Math.round((st.gauges.points_per_update ?? 0) * 10) / 10,
    disk_kb: du,
    threads_cpu_s: threads,
  };
}

async function runCarbonCache(series: number, points: number, tag: string): Promise<Record<string, unknown>> {
  const d = scratchDir('carbon-anchor-');
  const pid = Number(execFileSync(join(HARNESS, 'anchors/carbon/start.sh'), [d, '22103', '22104', '22102']).toString().trim());
  await new Promise((r) => setTimeout(r, 4000));
  try {
    return pick(await carbonRun([
      '--port', '22103', '--mode', 'plain', '--series', String(series), '--points', String(points), '--prefix', `bench.c${tag}`,
      '--verify', 'whisper', '--whisper-dir', join(d, 'storage/whisper'), '--pids', String(pid), '--timeout', '600',
    ]));
  } finally {
    process.kill(pid);
    await waitGone(pid);
  }
}

async function runVm(series: number, points: number, tag: string): Promise<Record<string, unknown>> {
  const d = scratchDir('vm-anchor-');
  const pid = Number(execFileSync(join(HARNESS, 'anchors/start-victoria-metrics.sh'), [d, '22203', '28428']).toString().trim());
  await new Promise((r) => setTimeout(r, 3000));
  try {
    return pick(await carbonRun([
      '--port', '22203', '--mode', 'plain', '--series', String(series), '--points', String(points), '--prefix', `bench.v${tag}`,
      '--verify', 'vm-export', '--url', 'http://127.0.0.1:28428', '--interval', '0.25', '--pids', String(pid), '--timeout', '300',
    ]));
  } finally {
    process.kill(pid);
    await waitGone(pid);
  }
}

/** CPU seconds used by each thread of `pid` so far, by thread id, from /proc (empty if not Linux). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(Number(t) === pid ? 'main' : t, (Number(f[11]) + Number(f[12])) / 100); // USER_HZ
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/** The threads that worked during the run, busiest first: `main:4.15`, `<tid>:1.52`, … */
function threadCpuDelta(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after]
    .map(([t, s]) => [t, s - (before.get(t) ?? 0)] as const)
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([t, s]) => `${t}:${s.toFixed(2)}`);
}

/**
 * Before every run: write back what earlier runs left dirty, then wait a moment. Why: carbon-cache
 * leaves ~40 MB of dirty pages per 10,000 files, and the kernel writes them back 30 s later, i.e.
 * in the middle of whichever run comes next (with a loop-mounted scratch, on the same two cores):
 * without this, the run after two anchors measured 35-40 % slower than the same run after one.
 */
async function settle(): Promise<void> {
  execFileSync('sync');
  await new Promise((r) => setTimeout(r, 2000));
}

process.stderr.write('whisper-ingest: starting\n');
const results: Record<string, unknown> = {};
for (const [series, points] of loads) {
  const key = `${series}x${points}`;
  const entry: Record<string, unknown[]> = { carbonado: [] };
  for (let r = 0; r < runs; r++) {
    const tag = `${Date.now() % 100000}r${r}`;
    await settle();
    if (readable.includes('disk')) entry.carbonado!.push(await runCarbonado(series, points, tag));
    if (readable.includes('render')) {
      await settle();
      (entry['carbonado (readable through /render)'] ??= []).push(await runCarbonado(series, points, `${tag}f`, 'render'));
    }
    if (anchors.includes('carbon') && existsSync('/usr/bin/carbon-cache')) {
      await settle();
      (entry['carbon-cache'] ??= []).push(await runCarbonCache(series, points, tag));
    }
    if (anchors.includes('vm') && existsSync('/usr/bin/victoria-metrics')) {
      await settle();
      (entry.victoriametrics ??= []).push(await runVm(series, points, tag));
    }
  }
  results[key] = entry;
}
rmSync(scratchRoot, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ bench: 'whisper-ingest', at: new Date().toISOString(), node: process.version, from, durability, store_options: storeOptions, scratch_fs: scratchFs, results })}\n`);
process.exit(0);
