// Events API throughput and latency: carbonado (spawned, sqlite_events) side by side with
// graphite-web 1.1.8 under gunicorn (the anchor), same requests, one client, keep-alive.
// Prints ONE JSON line. Usage: node --import tsx bench/annotations.ts [--events 2000] [--queries 200]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnCarbonado, waitFor } from '../test/helpers/carbonado.js';
import { SHARED_DIR } from '../test/helpers/peers.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '2000' }, queries: { type: 'string', default: '200' } } });
const EVENTS = Number(values.events);
const QUERIES = Number(values.queries);
const BASE = 1700000000;
const SPACING_S = 43; // 2000 events cover a day
const TAGS = [['deploy', 'hub'], ['deploy', 'web'], ['incident']];
const ANCHOR = join(SHARED_DIR, 'bench/anchors/graphite-web/start.sh');

function pct(sorted: number[], p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2));
}

async function timed(n: number, fn: (i: number) => Promise<void>): Promise<{ per_s: number; p50_ms: number; p99_ms: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn(i);
    lat.push(performance.now() - s);
  }
  const total = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { per_s: Math.round(n / total), p50_ms: pct(lat, 50), p99_ms: pct(lat, 99) };
}

async function measure(url: string): Promise<Record<string, unknown>> {
  const post = await timed(EVENTS, async (i) => {
    const body = JSON.stringify({ what: `event ${i}`, tags: TAGS[i % TAGS.length], data: `bench ${i}`, when: BASE + i * SPACING_S });
    const r = await fetch(`${url}/events/`, { method: 'POST', body });
    if (r.status !== 200) throw new Error(`POST ${url}: ${r.status}`);
    await r.arrayBuffer();
  });
  let matched6h = 0;
  let matchedAll = 0;
  const query = (q: string, onCount: (n: number) => void) => async () => {
    const r = await fetch(`${url}/events/get_data?${q}`);
    const list = (await r.json()) as unknown[];
    onCount(list.length);
  };
  // a Grafana dashboard's 6-hour window with a tag, and the whole day without one
  const q6h = await timed(QUERIES, query(`from=${BASE + 6 * 3600}&until=${BASE + 12 * 3600}&tags=deploy`, (n) => (matched6h = n)));
  const qAll = await timed(Math.max(1, Math.floor(QUERIES / 4)), query(`from=${BASE}&until=${BASE + 86400}`, (n) => (matchedAll = n)));
  return {
    post_per_s: post.per_s,
    post_p50_ms: post.p50_ms,
    post_p99_ms: post.p99_ms,
    query_6h_tag_events: matched6h,
    query_6h_tag_p50_ms: q6h.p50_ms,
    query_6h_tag_p99_ms: q6h.p99_ms,
    query_day_events: matchedAll,
    query_day_p50_ms: qAll.p50_ms,
    query_day_p99_ms: qAll.p99_ms,
  };
}

function rssKb(pid: number): number | undefined {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'crb-bench-events-'));
const out: Record<string, unknown> = { bench: 'annotations', events: EVENTS, queries: QUERIES };
try {
  const c = await spawnCarbonado({
    stores: { events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    outputs: { annotations: { type: 'grafana_annotations' } },
  });
  try {
    out.carbonado = { ...(await measure(c.httpUrl)), max_rss_kb: rssKb(c.pid) };
  } finally {
    c.kill('SIGTERM');
    await c.exited;
  }

  if (existsSync(ANCHOR)) {
    const gwDir = join(dir, 'gw');
    mkdirSync(join(gwDir, 'whisper'), { recursive: true });
    // one gunicorn worker: the same single core a carbonado process uses
    const res = spawnSync('bash', [ANCHOR, gwDir, join(gwDir, 'whisper'), '0', '', '1'], { encoding: 'utf8' });
    const pid = Number(res.stdout.trim());
    try {
      const log = join(gwDir, 'log', 'gunicorn.log');
      const port = await waitFor(() => existsSync(log) && /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'))?.[1], 'graphite-web', 30_000, 100);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/events/get_data`).catch(() => undefined))?.ok, 'graphite-web to answer', 30_000, 100);
      out.graphite_web = { ...(await measure(url)), setup: 'graphite-web 1.1.8, gunicorn 1 sync worker, sqlite' };
    } finally {
      if (pid) process.kill(pid, 'SIGTERM');
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
