import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryStore } from '../../../core/index.js';
import { PointBudget, PointPool } from './expr/index.js';
import type { EvalRequest } from './eval-wire.js';
import { RenderWorker } from './render-worker.js';

const UNTIL = 1_800_000_000;
const emptyStore: QueryStore = { find: async () => [], fetch: async () => [] };

function request(target: string, deadline: number): EvalRequest {
  return {
    targets: [target], from: UNTIL - 100 * 86_400, until: UNTIL, now: UNTIL, maxSeriesPerTarget: 100, maxExpressionDepth: 32,
    maxPointsPerRequest: 10_000_000, xFilesFactor: 0, deadline, templateArgs: {}, tz: 'UTC', serverTz: 'UTC', hasTags: false, hasEvents: false,
    budgetCells: new PointBudget(10_000_000).cells,
  };
}

test('renders queued behind an overrunning one, with the same deadline, end its worker once', { timeout: 60_000 }, async () => {
  let overtimes = 0;
  const worker = new RenderWorker(new PointPool(1e9), 1, (err) => assert.fail(err), () => overtimes++);
  try {
    assert.equal((await worker.evaluate(request('identity("x")', Date.now() + 30_000), emptyStore, undefined)).length, 1); // the worker up
    const deadline = Date.now() + 300;
    // ~8 s of computing, then twelve renders queued behind it whose overtime timers fire in the same tick
    const all = [request('movingWindow(identity("x"),3000,"stddev")', deadline), ...Array.from({ length: 12 }, () => request('identity("y")', deadline))]
      .map((r) => worker.evaluate(r, emptyStore, undefined).then(() => 'answered', (e: Error) => e.message));
    const outcomes = await Promise.all(all);
    assert.ok(outcomes.every((o) => /restarted/.test(o)), outcomes.join(' | '));
    assert.equal(overtimes, 1);
    assert.equal((await worker.evaluate(request('identity("x")', Date.now() + 30_000), emptyStore, undefined)).length, 1);
  } finally {
    await worker.stop();
  }
});

test('a worker ended for an overrun sends the renders it had not begun to a new worker; begun ones fail with 503', { timeout: 60_000 }, async () => {
  let overtimes = 0;
  const worker = new RenderWorker(new PointPool(1e9), 1, (err) => assert.fail(err), () => overtimes++);
  // finds of "slow.*" answer after 3 s: a render waiting on one has begun, and is not computing
  const slowStore: QueryStore = {
    find: async (pattern) => (pattern.startsWith('slow') ? new Promise((resolve) => setTimeout(() => resolve([]), 3000)) : []),
    fetch: async () => [],
  };
  try {
    assert.equal((await worker.evaluate(request('identity("x")', Date.now() + 30_000), slowStore, undefined)).length, 1); // the worker up
    const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: Error) => e.message);
    const waiting = outcome(worker.evaluate(request('slow.x', Date.now() + 30_000), slowStore, undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // ~8 s of computing past a 300 ms deadline, and renders with time left queued behind it
    const heavy = outcome(worker.evaluate(request('movingWindow(identity("x"),3000,"stddev")', Date.now() + 300), slowStore, undefined));
    const queued = Array.from({ length: 3 }, (_, i) => worker.evaluate(request(`identity("q${i}")`, Date.now() + 30_000), slowStore, undefined));
    const t0 = performance.now();
    const answers = await Promise.all(queued);
    assert.deepEqual(answers.map((a) => a[0]![0]!.name), ['q0', 'q1', 'q2']);
    assert.ok(performance.now() - t0 < 5000, 'answered by a new worker, not after the computation');
    assert.match(await heavy, /restarted/);
    assert.match(await waiting, /restarted/, 'a render the worker had begun is not run twice');
    assert.equal(overtimes, 1);
  } finally {
    await worker.stop();
  }
});
