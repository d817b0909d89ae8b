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
