import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PointBudget, PointPool } from './point-budget.js';

const outcome = (b: PointBudget, points: number): string => {
  try {
    b.charge(points, 'read from the store');
    return 'ok';
  } catch (err) {
    return (err as Error).message.startsWith('the server is busy') ? 'busy' : (err as Error).message;
  }
};

test('point pool: when every request holds a share and needs more, the oldest goes on (it once refused them all)', () => {
  const pool = new PointPool(1000);
  const [a, b, c] = [new PointBudget(10_000, pool), new PointBudget(10_000, pool), new PointBudget(10_000, pool)];
  // three renders read in turns until the pool is full
  for (const [budget, points] of [[a, 300], [b, 300], [c, 300], [a, 100]] as const) assert.equal(outcome(budget, points), 'ok');
  assert.equal(pool.inFlight, 1000);
  assert.equal(outcome(b, 100), 'busy');
  assert.equal(outcome(c, 100), 'busy');
  assert.equal(outcome(a, 500), 'ok', 'the oldest takes past the limit, as a request alone does');
  // once the oldest is answered, the next oldest is the one that may go on
  a.release();
  b.release();
  assert.equal(pool.inFlight, 300);
  assert.equal(outcome(c, 900), 'ok');
  const d = new PointBudget(10_000, pool);
  assert.equal(outcome(d, 100), 'busy', 'a newer request still fits or waits its turn');
  c.release();
  d.release();
  assert.equal(pool.inFlight, 0);
  // the render worker's copy of a budget (same cells) charges with the request's ticket
  const e = new PointBudget(10_000, pool);
  const f = new PointBudget(10_000, pool);
  assert.equal(outcome(f, 1000), 'ok');
  assert.equal(outcome(new PointBudget(10_000, new PointPool(1000, pool.buffer), e.cells), 500), 'ok', 'e is the oldest');
  e.release();
  f.release();
});
