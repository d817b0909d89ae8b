// A commit that fails on a full disk is rolled back by SQLite; the series it was creating must be
// created again by the retry, under ids of their own, so that once space returns every series
// reads its own points, before and after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pointBatch, type StoreInstance } from '../../../core/index.js';
import { startInProcess, waitFor, type InProcess } from '../../../test/helpers/carbonado.js';
import { requireHere } from '../../../test/helpers/peers.js';
import { smallDisk } from '../../../test/helpers/tmpfs.js';

function start(path: string): Promise<InProcess> {
  return startInProcess({ stores: { s: { type: 'sqlite', path, commitIntervalMs: 20, schemas: [{ name: 't', pattern: '.*', retentions: '10s:1d' }] } } });
}

test('sqlite: disk full (tiny tmpfs): new series of a failed commit are created again on retry, each with its own id', async (t) => {
  const disk = await smallDisk('carbonado-sqlite-full-', '256k');
  if (!requireHere(t, disk !== undefined, 'root, to mount a tmpfs') || !disk) return;
  const path = join(disk.mnt, 'carbonado.db');
  const now = Math.floor(Date.now() / 1000 / 10) * 10;
  // full.sI: the value I at each of 50 slots; late.sI (sent while the disk is full): 1000 + I
  const full = Array.from({ length: 200 }, (_, i) => `full.s${i}`);
  const late = Array.from({ length: 5 }, (_, i) => `late.s${i}`);
  const check = async (store: StoreInstance): Promise<void> => {
    const got = await store.fetch([...full, ...late], now - 600, now, { now });
    assert.equal(got.length, full.length + late.length);
    for (const s of got) {
      const values = [...s.values].filter((v) => !Number.isNaN(v));
      const want = s.name.startsWith('full.') ? Number(s.name.slice(6)) : 1000 + Number(s.name.slice(6));
      assert.ok(values.length > 0 && values.every((v) => v === want), `${s.name}: ${values.slice(0, 5)}… (want ${want})`);
    }
  };
  let c = await start(path);
  try {
    const store = c.runtime.instance<StoreInstance>('stores.s')!;
    const stats = () => c.stats().instances['stores.s']!;
    const rows: Array<[string, number, number]> = [];
    for (let k = 0; k < 50; k++) for (let i = 0; i < full.length; i++) rows.push([full[i]!, i, now - 590 + 10 * k]);
    store.write(pointBatch(rows));
    await waitFor(() => (stats().errors.disk_full ?? 0) > 0, 'SQLITE_FULL seen', 20_000);
    store.write(pointBatch(late.map((n, i) => [n, 1000 + i, now - 20] as [string, number, number])));
    await waitFor(() => (stats().errors.disk_full ?? 0) > 1, 'a second failed commit', 20_000);
    disk.resize('16m');
    await waitFor(() => store.stats!().queue_points === 0, 'every point committed once space is back', 30_000);
    await check(store);
    await c.stop();

    // the series table holds every name once, each under an id of its own
    const db = new Database(path, { readonly: true });
    const names = (db.prepare('SELECT id, name FROM series').all() as Array<{ id: number; name: string }>).map((r) => r.name);
    const orphans = (db.prepare('SELECT COUNT(DISTINCT sid) AS n FROM points WHERE sid NOT IN (SELECT id FROM series)').get() as { n: number }).n;
    db.close();
    assert.deepEqual(names.sort(), [...full, ...late].sort());
    assert.equal(orphans, 0, 'no points under an id that no series has');

    c = await start(path);
    await check(c.runtime.instance<StoreInstance>('stores.s')!);
  } finally {
    await c.stop().catch(() => undefined);
    await disk.remove();
  }
});

test('sqlite: a stop while the disk stays full retries at a growing pause, then counts what it could not store and ends', async (t) => {
  const disk = await smallDisk('carbonado-sqlite-full-stop-', '256k');
  if (!requireHere(t, disk !== undefined, 'root, to mount a tmpfs') || !disk) return;
  const path = join(disk.mnt, 'carbonado.db');
  const now = Math.floor(Date.now() / 1000 / 10) * 10;
  const c = await start(path);
  try {
    const store = c.runtime.instance<StoreInstance>('stores.s')!;
    const stats = () => c.stats().instances['stores.s']!;
    const rows: Array<[string, number, number]> = [];
    for (let k = 0; k < 50; k++) for (let i = 0; i < 200; i++) rows.push([`stop.s${i}`, i, now - 590 + 10 * k]);
    store.write(pointBatch(rows));
    await waitFor(() => (stats().errors.disk_full ?? 0) > 0, 'SQLITE_FULL seen', 20_000);
    const failedBefore = stats().errors.disk_full ?? 0;
    const queued = store.stats!().queue_points!;
    const t0 = performance.now();
    await c.stop();
    const ms = performance.now() - t0;
    // ~15 s of retries, not the runtime's 60 s stop timeout; a few dozen attempts, not thousands
    assert.ok(ms > 10_000 && ms < 30_000, `stop took ${Math.round(ms)} ms`);
    const after = stats();
    assert.ok((after.errors.disk_full ?? 0) - failedBefore < 100, `${(after.errors.disk_full ?? 0) - failedBefore} failed commits during the stop`);
    assert.ok(after.dropped.stop_write_failed! > 0 && after.dropped.stop_write_failed! <= queued, JSON.stringify(after.dropped));
  } finally {
    await c.stop().catch(() => undefined);
    await disk.remove();
  }
});
