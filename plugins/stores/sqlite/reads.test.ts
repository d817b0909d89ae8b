import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { pointBatch, type StoreInstance } from '../../../core/index.js';
import { startInProcess, waitFor, type InProcess } from '../../../test/helpers/carbonado.js';
import { ReadPool } from './read-pool.js';

const T = 1_700_000_000 - (1_700_000_000 % 60);

async function boot(extra: Record<string, unknown> = {}): Promise<{ c: InProcess; store: StoreInstance; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-sqlite-reads-'));
  const c = await startInProcess(
    { stores: { main: { type: 'sqlite', path: join(dir, 'c.db'), schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1d' }], ...extra } } },
    { clock: () => T },
  );
  return { c, store: c.runtime.instance<StoreInstance>('stores.main')!, dir };
}

/** `series` series of `points` points each, 10 s apart up to T, committed */
async function fill(c: InProcess, store: StoreInstance, series: number, points: number): Promise<string[]> {
  const names = Array.from({ length: series }, (_, s) => `big.s${s}`);
  for (const name of names) {
    const rows: Array<[string, number, number]> = [];
    for (let p = 0; p < points; p++) rows.push([name, p, T - p * 10]);
    c.runtime.services.bus.emit('points', pointBatch(rows), 'test');
  }
  await waitFor(() => store.stats!().queue_points === 0, 'committed', 120_000);
  return names;
}

test('sqlite: a large fetch reads on the read threads; the event loop keeps turning meanwhile', async () => {
  const { c, store, dir } = await boot();
  try {
    // 1.7 M rows: ~0.5 µs each, about a second on one thread
    const names = await fill(c, store, 200, 8640);
    let ticks = 0;
    let gap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
      ticks++;
    }, 2);
    const started = performance.now();
    const out = await store.fetch(names, T - 86_400, T);
    const took = performance.now() - started;
    clearInterval(timer);
    assert.equal(out.length, 200);
    for (const s of out) {
      assert.equal(s.step, 10);
      assert.equal(s.values[s.values.length - 1], 0, s.name); // the point at T
      assert.equal(s.values.filter((v) => !Number.isNaN(v)).length, 8640, s.name);
    }
    // on the main thread the whole fetch ran in one turn: no tick at all
    assert.ok(ticks >= 5, `${ticks} timer ticks during a ${took.toFixed(0)} ms fetch`);
    assert.ok(gap < Math.max(100, took / 2), `event loop held ${gap.toFixed(0)} ms of a ${took.toFixed(0)} ms fetch`);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite: a point accepted before a fetch is in it, whether its commit lands before, during or after the read', async () => {
  const { c, store, dir } = await boot({ commitIntervalMs: 10 });
  try {
    const names = Array.from({ length: 20 }, (_, s) => `race.s${s}`);
    let sent = 0;
    for (let round = 0; round < 300; round++) {
      const t = T - 86_000 + round * 10;
      c.runtime.services.bus.emit('points', pointBatch(names.map((n, i) => [n, round * 100 + i, t])), 'test');
      sent = round + 1;
      // every other round a commit is in flight while the read runs
      if (round % 2 === 0) await new Promise((r) => setTimeout(r, round % 3));
      const out = await store.fetch(names, T - 86_400, T);
      assert.equal(out.length, names.length);
      for (let i = 0; i < names.length; i++) {
        const s = out[i]!;
        const base = (T - 86_000 - s.start) / 10;
        for (let r = 0; r < sent; r++) assert.equal(s.values[base + r], r * 100 + i, `round ${round}: ${s.name} at round ${r}`);
      }
    }
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite: a read thread that dies fails its series (counted), not the process; the next fetch reads again', async () => {
  const { c, store, dir } = await boot();
  try {
    const names = await fill(c, store, 100, 8640);
    // the threads are the store's own: reach them as the runtime cannot, to kill one mid-read
    const threads = (store as unknown as { readers: { threads: Array<{ worker: Worker | undefined }> } }).readers.threads;
    const reading = store.fetch(names, T - 86_400, T);
    await Promise.all(threads.map((t) => t.worker?.terminate()));
    const out = await reading;
    const errors = c.stats().instances['stores.main']!.errors;
    assert.equal(out.length + (errors.read_failed ?? 0), names.length, JSON.stringify(errors));
    assert.ok((errors.read_failed ?? 0) > 0, 'series of the killed read counted');
    assert.ok((errors.read_worker_failed ?? 0) > 0, 'a thread ended without an error event is a failure too');
    const again = await store.fetch(names, T - 86_400, T);
    assert.equal(again.length, names.length);
    for (const s of again) assert.equal(s.values.filter((v) => !Number.isNaN(v)).length, 8640, s.name);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite: a read that fails (here one no array can hold) fails alone: the rest of its batch and the fetches beside it are answered', async () => {
  const { c, store, dir } = await boot();
  try {
    await fill(c, store, 1, 100);
    const failures: Error[] = [];
    const pool = new ReadPool(join(dir, 'c.db'), (err) => failures.push(err), 1);
    try {
      await pool.warm();
      const ok = { sid: 1, archive: 0, step: 10, points: 8640, start: T - 990, length: 100 };
      const [batch, beside] = await Promise.all([pool.read([ok, { ...ok, length: -1 }, ok]), pool.read([ok])]);
      assert.ok(batch[0] instanceof Float64Array && batch[2] instanceof Float64Array);
      assert.equal(batch[0].filter((v) => !Number.isNaN(v)).length, 100);
      assert.deepEqual([...batch[0]], [...batch[2]]);
      assert.ok(batch[1] instanceof Error, 'the impossible read is refused');
      assert.match(batch[1].message, /length/);
      assert.ok(beside[0] instanceof Float64Array, 'the fetch beside it on the same thread is answered');
      // each grid has a buffer of its own: one kept does not keep its batch alive
      assert.equal(batch[0].buffer.byteLength, 800);
      assert.deepEqual(failures, [], 'the thread did not die');
    } finally {
      await pool.close();
    }
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite: the read threads open the database at start: removed from under the store, it is still read (as the writer still writes it)', async () => {
  const { c, store, dir } = await boot();
  try {
    const names = await fill(c, store, 4, 10);
    for (const f of await readdir(dir)) await rm(join(dir, f));
    const out = await Promise.all([store.fetch(names, T - 3600, T), store.fetch(names, T - 3600, T)]);
    for (const got of out) {
      assert.equal(got.length, 4);
      for (const s of got) assert.equal(s.values.filter((v) => !Number.isNaN(v)).length, 10, s.name);
    }
    assert.deepEqual(c.stats().instances['stores.main']!.errors, {});
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite: a fetch after stop skips the stored series and counts them, rather than answering them empty', async () => {
  const { c, store, dir } = await boot();
  try {
    const names = await fill(c, store, 3, 10);
    await c.stop();
    assert.deepEqual(await store.fetch(names, T - 3600, T), []);
    assert.equal(c.stats().instances['stores.main']!.errors.read_failed, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
