/**
 * bench/render-loop: how long heavy renders hold carbonado's event loop, with targets evaluated in
 * the render worker (evaluateInWorker, the default) and on the main thread, in the same run.
 * Prints ONE JSON line.
 *
 *   node --import tsx bench/render-loop.ts [--series 10] [--points 1000000] [--concurrent 4]
 *
 * The data: --series Whisper files of --points minute points each (one archive), written straight
 * in Whisper's format to a temporary directory. The load: --concurrent renders at once of
 * `summarize(perSecond(big.*),"1min","max")` over the whole range (maxDataPoints=500), while a
 * client asks GET /version every 5 ms. Reported per mode: the renders' wall time and statuses, the
 * slowest /version answer (how long everything else on the event loop waited), and one render
 * alone with the longest gap of a 2 ms timer inside the process.
 * graphite-web is not run beside it: it needs minutes per render of this size.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess } from '../test/helpers/carbonado.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SERIES = opt('series', 10);
const POINTS = opt('points', 1_000_000);
const CONCURRENT = opt('concurrent', 4);
const STEP = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % STEP);
const NOW = T0 + POINTS * STEP - STEP / 2;
const TARGET = 'summarize(perSecond(big.*),"1min","max")';

function writeTree(dir: string): void {
  mkdirSync(join(dir, 'big'), { recursive: true });
  for (let s = 0; s < SERIES; s++) {
    const buf = Buffer.alloc(16 + 12 + POINTS * 12);
    // metadata: average, max retention, xFilesFactor, one archive at offset 28
    buf.writeUInt32BE(1, 0);
    buf.writeUInt32BE(POINTS * STEP, 4);
    buf.writeFloatBE(0.5, 8);
    buf.writeUInt32BE(1, 12);
    buf.writeUInt32BE(28, 16);
    buf.writeUInt32BE(STEP, 20);
    buf.writeUInt32BE(POINTS, 24);
    for (let i = 0; i < POINTS; i++) {
      const o = 28 + i * 12;
      buf.writeUInt32BE(T0 + i * STEP, o);
      buf.writeDoubleBE(i * (s + 1) * 3, o + 4); // growing counters
    }
    writeFileSync(join(dir, 'big', `s${s}.wsp`), buf);
  }
}

interface ModeResult {
  mode: 'worker' | 'main';
  concurrent_statuses: number[];
  concurrent_ms: number;
  version_max_ms: number;
  version_requests: number;
  alone_ms: number;
  alone_longest_loop_gap_ms: number;
}

async function measure(dir: string, inWorker: boolean): Promise<ModeResult> {
  const app = await startInProcess(
    {
      stores: { wsp: { type: 'whisper', dataDir: dir, durability: 'none' } },
      outputs: { graphite: { type: 'graphite_render', evaluateInWorker: inWorker, maxPointsPerRequest: 100_000_000, maxPointsInFlight: 400_000_000, maxRequestTimeMs: 120_000 } },
    },
    { clock: () => NOW },
  );
  const render = async (): Promise<number> => {
    const r = await fetch(`${app.httpUrl}/render?target=${encodeURIComponent(TARGET)}&from=${T0}&until=${NOW}&format=json&maxDataPoints=500`);
    await r.arrayBuffer();
    return r.status;
  };
  try {
    await render(); // warm: the worker started, the files' headers read
    let last = performance.now();
    let gap = 0;
    const timer = setInterval(() => {
      const t = performance.now();
      gap = Math.max(gap, t - last);
      last = t;
    }, 2);
    const a0 = performance.now();
    await render();
    const aloneMs = performance.now() - a0;
    clearInterval(timer);

    const polling = { on: true, max: 0, n: 0 };
    const poll = (async () => {
      while (polling.on) {
        const t = performance.now();
        await (await fetch(`${app.httpUrl}/version`)).text();
        polling.max = Math.max(polling.max, performance.now() - t);
        polling.n++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const c0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: CONCURRENT }, render));
    const concurrentMs = performance.now() - c0;
    polling.on = false;
    await poll;
    return {
      mode: inWorker ? 'worker' : 'main',
      concurrent_statuses: statuses,
      concurrent_ms: Math.round(concurrentMs),
      version_max_ms: Math.round(polling.max),
      version_requests: polling.n,
      alone_ms: Math.round(aloneMs),
      alone_longest_loop_gap_ms: Math.round(gap),
    };
  } finally {
    await app.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'carbonado-bench-render-loop-'));
try {
  writeTree(dir);
  const results = [await measure(dir, true), await measure(dir, false)];
  process.stdout.write(`${JSON.stringify({ bench: 'render-loop', series: SERIES, points_per_series: POINTS, concurrent: CONCURRENT, target: TARGET, results })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
