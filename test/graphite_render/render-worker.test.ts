// The render worker (evaluateInWorker): a long computation leaves the main thread's event loop
// free, and a render computing past its time limit is stopped by restarting the worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinPlugins } from '../../plugins/index.js';
import { startInProcess, waitFor, type InProcess } from '../helpers/carbonado.js';
import { memoryStorePlugin } from './memory-store.js';

const NOW = 1_800_000_000;

async function start(render: Record<string, unknown>): Promise<InProcess> {
  return startInProcess(
    { stores: { mem: { type: 'test_memory', names: ['heavy.a', 'light.a'] } }, outputs: { graphite: { type: 'graphite_render', ...render } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
}

const url = (app: InProcess, target: string, from: string): string =>
  `${app.httpUrl}/render?target=${encodeURIComponent(target)}&from=${from}&format=json&maxDataPoints=100`;

/** the render's status and time, and the longest the event loop went without running a 2 ms timer meanwhile */
async function renderWatchingLoop(app: InProcess, target: string, from: string): Promise<{ status: number; ms: number; longestGapMs: number }> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
  }, 2);
  const t0 = performance.now();
  try {
    const res = await fetch(url(app, target, from));
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0, longestGapMs: longest };
  } finally {
    clearInterval(timer);
  }
}

// a standard deviation per window, each computed afresh (as graphite-web does): 1,500-point windows
// over 43,000 points compute for ~1.2 s here; if this ever gets fast, the test says so
const HEAVY = 'movingWindow(heavy.a,1500,"stddev")';

test('a long render computes in the worker while the event loop stays free; on the main thread it holds the loop', { timeout: 120_000 }, async () => {
  const inWorker = await start({});
  try {
    const r = await renderWatchingLoop(inWorker, HEAVY, '-30d');
    assert.equal(r.status, 200);
    assert.ok(r.ms >= 500, `the render should compute for a while (took ${Math.round(r.ms)} ms)`);
    assert.ok(r.longestGapMs < r.ms / 4, `the event loop went ${Math.round(r.longestGapMs)} ms without a turn during a ${Math.round(r.ms)} ms render`);
  } finally {
    await inWorker.stop();
  }
  const onMain = await start({ evaluateInWorker: false });
  try {
    const r = await renderWatchingLoop(onMain, HEAVY, '-30d');
    assert.equal(r.status, 200);
    assert.ok(r.longestGapMs > r.ms / 2, `on the main thread the render holds the loop (${Math.round(r.longestGapMs)} of ${Math.round(r.ms)} ms)`);
  } finally {
    await onMain.stop();
  }
});

test('a render computing past maxRequestTimeMs gets 422, its worker is restarted, and the next render is answered', { timeout: 120_000 }, async () => {
  // one thread: a render sent meanwhile queues behind the heavy one
  const app = await start({ maxRequestTimeMs: 1000, renderThreads: 1 });
  try {
    // warm the worker, so the timings below are the computation's
    assert.equal((await fetch(url(app, 'light.a', '-1h'))).status, 200);
    const t0 = performance.now();
    // 3,000-point windows over 144,000 points: ~8 s, several times the limit
    const heavy = renderWatchingLoop(app, 'movingWindow(heavy.a,3000,"stddev")', '-100d');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // queued behind the heavy one in the worker
    const queued = fetch(url(app, 'light.a', '-1h')).then(async (r) => (await r.arrayBuffer(), r.status));
    const h = await heavy;
    assert.equal(h.status, 422);
    assert.ok(h.ms < 1800, `the 422 came after ${Math.round(h.ms)} ms`);
    assert.ok(h.longestGapMs < 400, `the event loop went ${Math.round(h.longestGapMs)} ms without a turn`);
    assert.ok([422, 503].includes(await queued), 'the render queued behind it is refused, not left hanging');
    // from the deadline on, renders go to a new worker; the old one is ended a second later
    const next = await fetch(url(app, 'light.a', '-1h'));
    assert.equal(next.status, 200);
    const [series] = (await next.json()) as Array<{ target: string }>;
    assert.equal(series!.target, 'light.a');
    await waitFor(() => app.stats().instances['outputs.graphite']!.counters.render_worker_restarts === 1, 'the overrunning worker to be ended', 5000);
    assert.ok(performance.now() - t0 < 5000, 'ended long before its computation would have finished');
    assert.equal((await fetch(url(app, 'light.a', '-1h'))).status, 200);
  } finally {
    await app.stop();
  }
});

test('with two render threads (the default), a dashboard\'s other panels are answered while one computes for seconds', { timeout: 60_000 }, async () => {
  const app = await start({});
  try {
    assert.equal((await fetch(url(app, 'light.a', '-1h'))).status, 200);
    const heavy = fetch(url(app, 'movingWindow(heavy.a,1500,"stddev")', '-30d'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const t0 = performance.now();
    // six panels loaded at once, as Grafana does
    const lightMs = await Promise.all(Array.from({ length: 6 }, async () => {
      const light = await fetch(url(app, 'light.a', '-1h'));
      assert.equal(light.status, 200);
      await light.arrayBuffer();
      return performance.now() - t0;
    }));
    const h = await heavy;
    const heavyMs = performance.now() - t0;
    assert.equal(h.status, 200);
    await h.arrayBuffer();
    assert.ok(Math.max(...lightMs) < heavyMs / 3, `the light renders took ${lightMs.map(Math.round).join(', ')} ms beside a ${Math.round(heavyMs)} ms one`);
  } finally {
    await app.stop();
  }
});

/** GET a render; its status and the points_in_flight gauge once it is answered */
async function renderStatus(app: InProcess, query: string): Promise<number> {
  const res = await fetch(`${app.httpUrl}/render?${query}&format=json`);
  await res.arrayBuffer();
  return res.status;
}

test("one budget for the request across both threads: reads and the worker's generated points count together", async () => {
  const app = await start({ maxPointsPerRequest: 2000, maxPointsInFlight: 2000 });
  try {
    // 1,440 generated (in the worker) + 1,440 read (on the main thread), in either order: over 2,000
    assert.equal(await renderStatus(app, `target=${encodeURIComponent('sumSeries(identity("x"),light.a)')}&from=-1d`), 422);
    assert.equal(await renderStatus(app, `target=${encodeURIComponent('sumSeries(light.a,identity("x"))')}&from=-1d`), 422);
    // 720 + 720 fit, and a render alone is never refused by the pool for points it holds itself
    assert.equal(await renderStatus(app, `target=${encodeURIComponent('identity("x")')}&target=light.a&from=-12h`), 200);
    await waitFor(() => app.stats().instances['outputs.graphite']!.gauges.points_in_flight === 0, 'the pool to be empty again', 5000);
  } finally {
    await app.stop();
  }
});

test("an overrunning render's points go back to the pool when its worker is ended", { timeout: 120_000 }, async () => {
  const app = await start({ maxRequestTimeMs: 1000, maxPointsInFlight: 400_000 });
  try {
    // identity() generates 144,000 points in the worker before the long computation starts
    for (let round = 0; round < 3; round++) {
      assert.equal(await renderStatus(app, `target=${encodeURIComponent('movingWindow(identity("x"),3000,"stddev")')}&from=-100d`), 422);
      await waitFor(() => app.stats().instances['outputs.graphite']!.counters.render_worker_restarts === round + 1, 'the worker to be ended', 5000);
      assert.equal(await renderStatus(app, 'target=light.a&from=-1h'), 200);
      assert.equal(app.stats().instances['outputs.graphite']!.gauges.points_in_flight, 0, `round ${round}: the pool is empty`);
    }
  } finally {
    await app.stop();
  }
});

test('stopping lets a render in progress finish, and ends the worker', async () => {
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names: ['slow.a'], slow: { prefix: 'slow.', ms: 500 } } }, outputs: { graphite: { type: 'graphite_render' } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  const pending = fetch(url(app, 'scale(slow.a,2)', '-1h'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const stopped = app.stop();
  const res = await pending;
  assert.equal(res.status, 200);
  const [series] = (await res.json()) as Array<{ target: string }>;
  assert.equal(series!.target, 'scale(slow.a,2)');
  await stopped;
});

test('while stopping, new renders answer 503 at once and the stop does not wait for them', async () => {
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names: ['slow.a', 'light.a'], slow: { prefix: 'slow.', ms: 800 } } }, outputs: { graphite: { type: 'graphite_render' } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  const inProgress = fetch(url(app, 'slow.a', '-1h'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const t0 = performance.now();
  const stopped = app.stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // a client that keeps rendering during the shutdown
  const late = await fetch(url(app, 'light.a', '-1h')).then(async (r) => ({ status: r.status, body: await r.text(), retry: r.headers.get('retry-after') }));
  assert.equal(late.status, 503, late.body);
  assert.match(late.body, /stopping/);
  assert.equal(late.retry, '1');
  assert.equal((await inProgress).status, 200);
  await stopped;
  assert.ok(performance.now() - t0 < 5000);
});

test('on stop, a render in progress on the main thread is answered before the stores stop (no aggregator configured)', async () => {
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names: ['slow.a'], slow: { prefix: 'slow.', ms: 500 } } }, outputs: { graphite: { type: 'graphite_render', evaluateInWorker: false } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  const pending = fetch(url(app, 'slow.a', '-1h'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const stopped = app.stop();
  const res = await pending;
  assert.equal(res.status, 200);
  const body = (await res.json()) as Array<{ target: string }>;
  assert.deepEqual(body.map((s) => s.target), ['slow.a'], 'the series, not an empty answer read from a stopped store');
  await stopped;
});

test('a render waiting on a slow read past its deadline is refused, but its worker is not ended as if it computed', async () => {
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names: ['slow.a', 'light.a'], slow: { prefix: 'slow.', ms: 2500 } } }, outputs: { graphite: { type: 'graphite_render', maxRequestTimeMs: 500, renderThreads: 1 } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  try {
    assert.equal((await fetch(url(app, 'slow.a', '-1h'))).status, 422);
    await new Promise((resolve) => setTimeout(resolve, 2800));
    assert.equal(app.stats().instances['outputs.graphite']!.counters.render_worker_restarts, undefined);
    assert.equal((await fetch(url(app, 'light.a', '-1h'))).status, 200);
  } finally {
    await app.stop();
  }
});
