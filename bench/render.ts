/**
 * bench/render: /render and /metrics/find latency of carbonado's graphite_render next to Debian's
 * graphite-web 1.1.8 (gunicorn, 2 workers) on the SAME whisper tree, measured with the shared harness's
 * render-probe.js. Prints ONE JSON line.
 *
 *   node --import tsx bench/render.ts [--tree DIR] [--runs 1] [--skip-graphite-web] [--find-leaves 1000000]
 *
 * The tree is the harness's bench.gw dataset (1000 series x 1 day at 10 s), written by
 * bench/render-dataset.py when DIR has none (about 2 minutes). "cold" is the first request of a freshly
 * started carbonado process (its caches empty; the OS page cache may be warm), "warm" the probe's
 * figures after one warm-up request. The find figure uses an in-memory trie store of --find-leaves
 * leaves in this process, so it measures graphite_render's find path, not a filesystem walk.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, startInProcess, REPO_ROOT } from '../test/helpers/carbonado.js';
import { SHARED_DIR } from '../test/helpers/peers.js';
import { builtinPlugins } from '../plugins/index.js';
import { definePlugin, type FindNode, type SeriesData, type StoreInstance } from '../core/index.js';

const HARNESS = join(SHARED_DIR, 'bench');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const tree = opt('tree', join(tmpdir(), 'carbonado-bench-render-tree'));
const runs = Number(opt('runs', '1'));
const skipGw = args.includes('--skip-graphite-web');
const findLeaves = Number(opt('find-leaves', '1000000'));
const log = (m: string) => process.stderr.write(`[bench/render] ${m}\n`);

interface Probe { req_s: number; lat_ms: { p50: number; p90: number; p99: number; max: number }; ok: number; errors: number; first_response: unknown }

/** async: the find bench serves from this very process, so the probe must not block its event loop */
async function probe(url: string, extra: string[]): Promise<Probe> {
  const r = await promisify(execFile)(process.execPath, [join(HARNESS, 'render-probe.js'), '--url', url, ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

const SUM100 = 'sumSeries(bench.gw.s1[0-9][0-9])';
const SUM1000 = 'sumSeries(bench.gw.*)';

async function renderSet(url: string, warmup: number, n100: number, n1000: number) {
  const p = (target: string, n: number) => probe(url, ['--target', target, '--from', '-1d', '--until', 'now', '--requests', String(n), '--concurrency', '1', '--warmup', String(warmup)]);
  return { sum100: await p(SUM100, n100), sum1000: await p(SUM1000, n1000) };
}

const summary = (p: Probe) => ({ p50_ms: p.lat_ms.p50, p99_ms: p.lat_ms.p99, req_s: p.req_s, ok: p.ok, errors: p.errors });

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer`);
}

/** A trie of dotted names: what an indexed store's find does, so the bench isolates the HTTP layer. */
class TrieStore implements StoreInstance {
  private readonly root = new Map<string, Map<string, unknown>>();
  constructor(leaves: number) {
    const fan = Math.round(Math.sqrt(leaves));
    for (let i = 0; i < fan; i++) {
      const children = new Map<string, unknown>();
      for (let j = 0; j < fan; j++) children.set(`m${j}`, null);
      this.root.set(`n${i}`, children);
    }
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  write(): void {}
  async find(pattern: string): Promise<FindNode[]> {
    const [a, b, c] = pattern.split('.');
    if (a !== 'f' || c === undefined) return a === 'f' && b !== undefined ? this.match(this.root, b, 'f.', false) : [];
    const out: FindNode[] = [];
    const re = glob(b!);
    for (const [k, v] of this.root) if (re.test(k)) out.push(...this.match(v as Map<string, unknown>, c, `f.${k}.`, true));
    return out;
  }
  private match(m: Map<string, unknown>, p: string, prefix: string, leaf: boolean): FindNode[] {
    if (!/[*?[{]/.test(p)) return m.has(p) ? [{ path: prefix + p, isLeaf: leaf }] : [];
    const re = glob(p);
    const out: FindNode[] = [];
    for (const k of m.keys()) if (re.test(k)) out.push({ path: prefix + k, isLeaf: leaf });
    return out;
  }
  async fetch(): Promise<SeriesData[]> {
    return [];
  }
}

function glob(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

async function findBench() {
  const leaves = findLeaves;
  const plugin = definePlugin<'store', Record<string, never>>({
    kind: 'store', name: 'bench_trie', since: '0.1.0', description: 'bench only', schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => new TrieStore(leaves),
  });
  const app = await startInProcess({ stores: { trie: { type: 'bench_trie' } }, query: { store: 'trie' }, outputs: { graphite: { type: 'graphite_render', maxFindResults: 2000000 } } }, { plugins: [...builtinPlugins, plugin] });
  try {
    const one = await probe(app.httpUrl, ['--find', 'f.n123.*', '--requests', '200', '--concurrency', '1', '--warmup', '5']);
    const glob2 = await probe(app.httpUrl, ['--find', 'f.n1?.m*', '--requests', '50', '--concurrency', '1', '--warmup', '2']);
    return { leaves: Math.round(Math.sqrt(leaves)) ** 2, one_level_1000_children: summary(one), two_globs_10000_nodes: summary(glob2) };
  } finally {
    await app.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(tree, 'bench', 'gw', 's999.wsp'))) {
    log(`writing the bench.gw dataset into ${tree} (about 2 minutes)`);
    execFileSync('/usr/bin/python3', [join(REPO_ROOT, 'bench', 'render-dataset.py'), tree], { stdio: 'inherit' });
  }
  const result: Record<string, unknown> = { bench: 'render', tree, runs };
  const carbonado: unknown[] = [];
  const gw: unknown[] = [];
  for (let r = 0; r < runs; r++) {
    log(`run ${r + 1}: carbonado`);
    const c = await spawnCarbonado({ stores: { main: { type: 'whisper', dataDir: tree, durability: 'none' } }, query: { store: 'main' }, outputs: { graphite: { type: 'graphite_render' } } }, { timeoutMs: 60_000 });
    try {
      const cold = { sum100: summary(await probe(c.httpUrl, ['--target', SUM100, '--from', '-1d', '--requests', '1', '--warmup', '0'])), sum1000: summary(await probe(c.httpUrl, ['--target', SUM1000, '--from', '-1d', '--requests', '1', '--warmup', '0'])) };
      const warm = await renderSet(c.httpUrl, 1, 20, 5);
      const c4 = await probe(c.httpUrl, ['--target', SUM100, '--from', '-1d', '--requests', '40', '--concurrency', '4', '--warmup', '1']);
      const find = await probe(c.httpUrl, ['--find', 'bench.gw.*', '--requests', '50', '--concurrency', '1', '--warmup', '1']);
      carbonado.push({ cold, warm: { sum100: summary(warm.sum100), sum1000: summary(warm.sum1000) }, sum100_c4: summary(c4), find1000: summary(find), first_response: warm.sum100.first_response });
    } finally {
      c.kill('SIGTERM');
      await c.exited;
    }
    if (!skipGw) {
      log(`run ${r + 1}: graphite-web`);
      const port = await freePort();
      const scratch = mkdtempSync(join(tmpdir(), 'carbonado-bench-gw-'));
      const pid = Number(execFileSync(join(HARNESS, 'anchors', 'graphite-web', 'start.sh'), [scratch, tree, String(port), '', '2']).toString().trim());
      try {
        const url = `http://127.0.0.1:${port}`;
        await waitHttp(`${url}/version`, 120_000);
        const warm = await renderSet(url, 1, 20, 5);
        const c4 = await probe(url, ['--target', SUM100, '--from', '-1d', '--requests', '40', '--concurrency', '4', '--warmup', '1']);
        const find = await probe(url, ['--find', 'bench.gw.*', '--requests', '50', '--concurrency', '1', '--warmup', '1']);
        gw.push({ warm: { sum100: summary(warm.sum100), sum1000: summary(warm.sum1000) }, sum100_c4: summary(c4), find1000: summary(find), first_response: warm.sum100.first_response });
      } finally {
        process.kill(pid, 'SIGTERM');
      }
    }
  }
  result.carbonado = carbonado;
  if (!skipGw) {
    result.graphite_web = gw;
    const last = <T>(xs: T[]) => xs[xs.length - 1] as { warm: { sum100: { p50_ms: number }; sum1000: { p50_ms: number } } };
    result.p50_speedup = {
      sum100: +(last(gw).warm.sum100.p50_ms / last(carbonado).warm.sum100.p50_ms).toFixed(1),
      sum1000: +(last(gw).warm.sum1000.p50_ms / last(carbonado).warm.sum1000.p50_ms).toFixed(1),
    };
  }
  log('find over an in-memory tree');
  result.find_in_memory = await findBench();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  printed = true;
}

let printed = false;

// an await that can never settle would otherwise end the process with status 0 and no line
process.on('exit', (code) => {
  if (code === 0 && !printed) {
    process.stderr.write('[bench/render] ended without a result\n');
    process.exitCode = 1;
  }
});

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
