/**
 * bench/graphite-expr: speed of the target language (parse + evaluate + functions) on in-memory
 * data, next to graphite-web 1.1.8's own evaluator on the same data (bench/lib/graphite-expr-anchor.py,
 * its fetch replaced by a list lookup in both). Isolates the function library from storage and HTTP
 * (bench/render.ts measures the whole /render path). Prints ONE JSON line.
 *
 *   node --import tsx bench/graphite-expr.ts [--hosts 50] [--per-host 10] [--points 1440] [--iters 15] [--skip-graphite-web]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluateTarget, parseTarget } from '../plugins/outputs/graphite_render/expr/index.js';
import { FakeStore, type FixtureSeries } from '../plugins/outputs/graphite_render/expr/test-support/fake-store.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const hosts = opt('hosts', 50);
const perHost = opt('per-host', 10);
const points = opt('points', 1440);
const iters = opt('iters', 15);
const STEP = 60;
const UNTIL = 1700006400;
const FROM = UNTIL - points * STEP;

const TARGETS = [
  'sumSeries(bench.*.*)',
  'groupByNode(bench.*.*,1,"sum")',
  'highestAverage(bench.*.*,5)',
  'aliasSub(summarize(bench.h*.cpu1,"1h","max"),"(^.*$)","\\1 A")',
  'movingAverage(bench.h1.*,10)',
  'movingAverage(bench.*.*,"3h")',
  'asPercent(bench.h1.*)',
  'nonNegativeDerivative(scale(bench.h2.*,2))',
  'perSecond(bench.h3.*)',
];

const fixtures: FixtureSeries[] = [];
for (let h = 0; h < hosts; h++) {
  for (let c = 0; c < perHost; c++) {
    const i = h * perHost + c;
    fixtures.push({
      name: `bench.h${h}.cpu${c}`,
      start: FROM - 200 * STEP,
      step: STEP,
      values: Array.from({ length: points + 200 }, (_, j) => ((i + j) % 17 === 0 ? null : ((i * 31 + j * 7) % 97))),
    });
  }
}
const store = new FakeStore(fixtures);

async function timeTarget(target: string): Promise<{ median_ms: number; series_out: number }> {
  const times: number[] = [];
  let out = 0;
  for (let k = 0; k < iters; k++) {
    const t0 = performance.now();
    const r = await evaluateTarget(parseTarget(target), { from: FROM, until: UNTIL, now: UNTIL, store, maxSeriesPerTarget: 100_000 });
    times.push(performance.now() - t0);
    out = r.length;
  }
  times.sort((a, b) => a - b);
  return { median_ms: Math.round(times[times.length >> 1]! * 100) / 100, series_out: out };
}

const carbonado: Record<string, { median_ms: number; series_out: number }> = {};
for (const t of TARGETS) carbonado[t] = await timeTarget(t);

type Timing = { median_ms: number; series_out: number };
let graphiteWeb = null as Record<string, Timing> | null;
const anchor = fileURLToPath(new URL('./lib/graphite-expr-anchor.py', import.meta.url));
if (!args.includes('--skip-graphite-web') && existsSync('/usr/lib/python3/dist-packages/graphite/render/functions.py')) {
  const r = spawnSync('/usr/bin/python3', [anchor, String(hosts), String(perHost), String(points), String(Math.max(3, Math.ceil(iters / 3))), ...TARGETS], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    timeout: 600_000,
  });
  if (r.status === 0) graphiteWeb = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, Timing>;
  else process.stderr.write(`[bench/graphite-expr] anchor failed: ${r.stderr.slice(-500)}\n`);
}

const rows = TARGETS.map((t) => ({
  target: t,
  carbonado_ms: carbonado[t]!.median_ms,
  graphite_web_ms: graphiteWeb?.[t]?.median_ms ?? null,
  speedup: graphiteWeb?.[t] ? Math.round((graphiteWeb[t]!.median_ms / Math.max(0.01, carbonado[t]!.median_ms)) * 10) / 10 : null,
  series_out: carbonado[t]!.series_out,
  series_out_graphite_web: graphiteWeb?.[t]?.series_out ?? null,
}));
console.log(JSON.stringify({ bench: 'graphite-expr', series: hosts * perHost, points_per_series: points, iters, results: rows }));
