#!/usr/bin/env node
// bench/store-compare: the same Carbon load and the same render load against the whisper store and
// the sqlite store, one fresh carbonado per store, in one run. Reports per store: end-to-end
// points/s (first byte sent -> every point readable through /render, checked by the shared
// harness's carbon-run/carbon-verify), seconds until everything is persisted, disk bytes per
// series, and render p50/p99 for sumSeries over 100 series. Prints one JSON line.
// Options: --series 10000 --points 60 --requests 200
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_BENCH, runJson, sleep, startCarbonado } from './lib/harness.mjs';

const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(`--${k}`) ? Number(argv[argv.indexOf(`--${k}`) + 1]) : d);
const series = opt('series', 10000);
const points = opt('points', 60);
const requests = opt('requests', 200);

async function measure(label, storeConfig, dir) {
  const c = await startCarbonado({
    http: { host: '127.0.0.1', port: 0 },
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { main: storeConfig },
    outputs: { graphite: { type: 'graphite_render' } },
  });
  const port = Number(/started inputs\.carbon \(carbon_line\) tcp:\/\/[^ ]+:(\d+)/.exec(c.log())[1]);
  const prefix = `bench.sc.${label}`;
  const t0 = Date.now();
  const run = await runJson(join(SHARED_BENCH, 'carbon-run.js'), [
    '--port', String(port), '--mode', 'plain', '--series', String(series), '--points', String(points), '--prefix', prefix,
    '--verify', 'render', '--url', c.httpUrl, '--pids', String(c.pid), '--timeout', '600',
  ]);
  // persisted: the store's own queue/cache is empty
  for (;;) {
    const g = (await c.stats()).instances['stores.main'].gauges;
    if ((g.cache_points ?? g.queue_points ?? 0) === 0) break;
    await sleep(100);
  }
  const persistedS = (Date.now() - t0) / 1000;
  const bytes = Number(execSync(`du -sb ${dir}`).toString().split('\t')[0]);
  const allocated = Number(execSync(`du -sk ${dir}`).toString().split('\t')[0]) * 1024;
  const render = await runJson(join(SHARED_BENCH, 'render-probe.js'), [
    '--url', c.httpUrl, '--target', `sumSeries(${prefix}.s1??)`, '--from', '-1h', '--requests', String(requests), '--concurrency', '4',
  ]);
  await c.stop();
  return {
    e2e_points_s: run.e2e_points_s,
    accept_points_s: run.accept_points_s,
    readable_after_s: run.readable_after_s,
    persisted_after_s: +persistedS.toFixed(2),
    disk_bytes_per_series: Math.round(bytes / series),
    disk_allocated_bytes_per_series: Math.round(allocated / series),
    rss_mb: run.rss_max_kb ? Math.round(run.rss_max_kb / 1024) : undefined,
    render_p50_ms: render.lat_ms?.p50,
    render_p99_ms: render.lat_ms?.p99,
    render_ok: render.ok,
    render_first: render.first_response,
  };
}

const wdir = mkdtempSync(join(tmpdir(), 'sc-whisper-'));
const sdir = mkdtempSync(join(tmpdir(), 'sc-sqlite-'));
const whisper = await measure('w', { type: 'whisper', dataDir: wdir }, wdir);
const sqlite = await measure('s', { type: 'sqlite', path: join(sdir, 'carbonado.db') }, sdir);
rmSync(wdir, { recursive: true, force: true });
rmSync(sdir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'store-compare',
    series,
    points_per_series: points,
    whisper,
    sqlite,
    sqlite_ingest_ratio: whisper.e2e_points_s && sqlite.e2e_points_s ? +(whisper.e2e_points_s / sqlite.e2e_points_s).toFixed(2) : null,
    sqlite_render_p50_ratio: whisper.render_p50_ms && sqlite.render_p50_ms ? +(sqlite.render_p50_ms / whisper.render_p50_ms).toFixed(2) : null,
    targets: { ingest_ratio_max: 2, render_p50_ratio_max: 2 },
  }),
);
