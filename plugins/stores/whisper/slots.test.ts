import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slots } from './slots.js';

test('at most `size` holders; the others are served in the order they came', async () => {
  const slots = new Slots(2);
  const order: number[] = [];
  let holding = 0;
  let most = 0;
  const gate: Array<() => void> = [];
  const holders = Array.from({ length: 6 }, async (_, i) => {
    await slots.take();
    order.push(i);
    most = Math.max(most, ++holding);
    await new Promise<void>((r) => gate.push(r));
    holding--;
    slots.give();
  });
  const turn = () => new Promise((r) => setImmediate(r));
  await turn();
  assert.deepEqual(order, [0, 1]);
  while (order.length < 6 || gate.length > 0) {
    gate.shift()?.();
    await turn();
  }
  await Promise.all(holders);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(most, 2);
});

test('a long wait list is served completely, in order, and the slot comes back free', async () => {
  const slots = new Slots(1);
  await slots.take();
  const served: number[] = [];
  const waiters = Array.from({ length: 5000 }, (_, i) => slots.take().then(() => {
    served.push(i);
    slots.give();
  }));
  slots.give();
  await Promise.all(waiters);
  assert.equal(served.length, 5000);
  assert.ok(served.every((v, i) => v === i));
  // nothing waits and nothing holds: the next take is immediate
  let now = false;
  void slots.take().then(() => (now = true));
  await Promise.resolve();
  assert.equal(now, true);
});
