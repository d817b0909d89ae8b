import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBus, instanceBus } from '../../core/bus/bus.js';

test("an instance's bus view isolates its listeners and removes only its own", async () => {
  const bus = createBus();
  const seen: string[] = [];
  const errors: string[] = [];
  bus.on('reload', () => seen.push('core'));
  const view = instanceBus(bus, (err) => errors.push((err as Error).message));
  const mine = () => seen.push('mine');
  view.on('reload', () => {
    throw new Error('sync');
  });
  view.on('reload', async () => {
    throw new Error('async');
  });
  view.on('reload', mine);
  view.once('reload', () => seen.push('once'));
  bus.on('reload', () => seen.push('core after'));

  bus.emit('reload');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['core', 'mine', 'once', 'core after'], 'a throw skips nobody');
  assert.deepEqual(errors, ['sync', 'async']);

  seen.length = 0;
  view.off('reload', mine);
  view.emit('reload');
  assert.deepEqual(seen, ['core', 'core after'], 'off(fn) and once remove the right listeners; emit goes to the bus');

  view.removeAllListeners('reload');
  view.removeAllListeners();
  assert.equal(bus.listenerCount('reload'), 2, "removing all removes only the instance's own");
  view.on('reload', mine);
  view.on('plugin.started', mine);
  assert.equal(bus.listenerCount('reload'), 3);
  view.detach();
  assert.equal(bus.listenerCount('reload') + bus.listenerCount('plugin.started'), 2, 'detach leaves the core subscribed');
});

test("a listener's `this` is its context or the view, and listeners() shows the plugin's own functions", () => {
  const bus = createBus();
  const view = instanceBus(bus, (err) => {
    throw err;
  });
  const selves: unknown[] = [];
  function plain(this: unknown): void {
    selves.push(this);
  }
  const ctx = { name: 'ctx' };
  view.on('reload', plain);
  view.once('reload', plain, ctx);
  assert.deepEqual(view.listeners('reload'), [plain, plain]);
  bus.emit('reload');
  assert.equal(selves[0], view, 'not the shared bus');
  assert.equal(selves[1], ctx);
  assert.deepEqual(view.listeners('reload'), [plain], 'once removed itself');
  view.off('reload', plain);
  assert.equal(bus.listenerCount('reload'), 0);
});
