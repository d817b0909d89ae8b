import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../../core/runtime/runtime.js';
import { pointBatch, type StoreInstance } from '../../../core/index.js';
import { builtinPlugins } from '../../index.js';
import { waitFor } from '../../../test/helpers/carbonado.js';
import { taggedTreePath } from '../whisper/paths.js';
import Database from 'better-sqlite3';

const T = 1_700_000_000;
const TAGGED = 'tcpu;dc=east;host=a';

async function boot(path: string): Promise<{ rt: Runtime; store: StoreInstance }> {
  const rt = await Runtime.create(
    { http: { host: '127.0.0.1', port: 0 }, log: { level: 'error' }, selfMetrics: { intervalSecs: 0 }, stores: { s: { type: 'sqlite', path } } },
    { plugins: builtinPlugins, file: 'sqlite-store-test', clock: () => T },
  );
  await rt.start();
  return { rt, store: rt.instance<StoreInstance>('stores.s')! };
}

const known = (vs: Float64Array) => [...vs].filter((v) => !Number.isNaN(v));

// the start-up path: every series comes from the database, none from a write
test('sqlite: series of an existing database are in the tag index, found by tagged name and readable by their _tagged path', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'carbonado-sqlite-')), 'carbonado.db');
  let { rt, store } = await boot(path);
  try {
    rt.services.bus.emit('points', pointBatch([['reg.a.cpu', 1, T - 10], [TAGGED, 3, T - 10]]), 'test');
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    await rt.stop();
    ({ rt, store } = await boot(path));

    // D1: carbon registers plain names in the tag database too
    assert.deepEqual(await store.tags!.tagValues('name'), ['reg.a.cpu', 'tcpu']);
    assert.deepEqual(await store.tags!.findTagged([{ tag: 'name', op: '=~', value: 'reg' }]), ['reg.a.cpu']);

    // D3: a tagged name as the find pattern, canonical or not (the whisper store normalises it)
    assert.deepEqual(await store.find(TAGGED), [{ path: TAGGED, isLeaf: true }]);
    assert.deepEqual(await store.find('tcpu;host=a;dc=east'), [{ path: TAGGED, isLeaf: true }]);
    assert.deepEqual(await store.find('tcpu;dc=east;host=b'), []);

    // D2: the tree path reads the tagged series' points and answers under that path
    const treePath = taggedTreePath(TAGGED);
    assert.deepEqual(await store.find('_tagged.*.*.*'), [{ path: treePath, isLeaf: true }]);
    const got = await store.fetch([treePath, '_tagged.000.000.nosuchhash'], T - 60, T, { now: T });
    assert.deepEqual(got.map((s) => [s.name, known(s.values)]), [[treePath, [3]]]);
  } finally {
    await rt.stop();
  }
});

test('sqlite: a fetch while a backfill of 200,000 points of one series is still pending sees them all', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'carbonado-sqlite-')), 'carbonado.db');
  const rt = await Runtime.create(
    {
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'error' },
      selfMetrics: { intervalSecs: 0 },
      stores: { s: { type: 'sqlite', path, schemas: [{ name: 'fine', pattern: '.*', retentions: '1s:3d' }] } },
    },
    { plugins: builtinPlugins, file: 'sqlite-store-test', clock: () => T },
  );
  await rt.start();
  try {
    const store = rt.instance<StoreInstance>('stores.s')!;
    const n = 200_000;
    store.write(pointBatch(Array.from({ length: n }, (_, i) => ['backfill.a', i, T - n + i] as [string, number, number])));
    // before the writer has answered: the points come from the store's pending chunks
    const [pending] = await store.fetch(['backfill.a'], T - n - 1, T, { now: T });
    assert.equal(known(pending!.values).length, n);
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 60_000);
    const [stored] = await store.fetch(['backfill.a'], T - n - 1, T, { now: T });
    assert.deepEqual(known(stored!.values), known(pending!.values));
  } finally {
    await rt.stop();
  }
});

test('sqlite: a timestamp past 2106 (whisper\'s limit) is dropped and counted; it neither creates a series nor overwrites the slot it maps to', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'carbonado-sqlite-')), 'carbonado.db');
  const { rt, store } = await boot(path);
  try {
    // 5e9 falls in the finest archive's slot of T - 4800 (10 s steps, 2160 slots)
    rt.services.bus.emit('points', pointBatch([['clob.x', 42, T - 4800]]), 'test');
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    rt.services.bus.emit('points', pointBatch([['clob.x', 7, 5_000_000_000], ['edge.big', 1, 4_294_967_296]]), 'test');
    await waitFor(() => (rt.statsSnapshot().instances['stores.s']!.dropped.bad_timestamp ?? 0) === 2, 'both dropped');
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    const [x] = await store.fetch(['clob.x'], T - 4810, T - 4790, { now: T });
    assert.deepEqual(known(x!.values), [42]);
    assert.deepEqual(await store.find('edge.*'), []);
  } finally {
    await rt.stop();
  }
});

test('sqlite: one store per database file: a second one (also through a symlink) is refused, naming the file and the process, until the first stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-sqlite-'));
  const path = join(dir, 'carbonado.db');
  symlinkSync(path, join(dir, 'alias.db'));
  const first = await boot(path);
  try {
    for (const p of [path, join(dir, 'alias.db')]) {
      // stopped if it starts after all: its worker would keep the test running
      const refused = await boot(p).then(
        (b) => b.rt.stop().then(() => new Error(`a second store started on ${p}`)),
        (err: Error) => err,
      );
      assert.match(refused.message, /carbonado\.db is in use by process \d+ \(lock file .*carbonado\.db\.carbonado-lock\)/);
    }
    // the refused store left the lock alone: the first one still writes and reads
    first.rt.services.bus.emit('points', pointBatch([['held.a', 1, T - 10]]), 'test');
    await waitFor(() => first.store.stats!().queue_points === 0, 'commit', 20_000);
    assert.deepEqual(known((await first.store.fetch(['held.a'], T - 60, T, { now: T }))[0]!.values), [1]);
  } finally {
    await first.rt.stop();
  }
  assert.equal(existsSync(`${path}.carbonado-lock`), false, 'the stop releases the lock');
  const second = await boot(join(dir, 'alias.db'));
  try {
    assert.deepEqual(known((await second.store.fetch(['held.a'], T - 60, T, { now: T }))[0]!.values), [1]);
  } finally {
    await second.rt.stop();
  }
});

test('sqlite: a series another writer put in the table meanwhile is written under its row; the other series of the chunk are not held up', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'carbonado-sqlite-')), 'carbonado.db');
  const { rt, store } = await boot(path);
  const other = new Database(path);
  try {
    rt.services.bus.emit('points', pointBatch([['ref.z', 1, T - 10]]), 'test');
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    // an import (or a second carbonado) defines dual.x behind this store's back
    const ref = other.prepare('SELECT archives, xff, method FROM series WHERE name = ?').get('ref.z') as { archives: string; xff: number; method: string };
    const theirs = Number(other.prepare('INSERT INTO series (name, archives, xff, method, created) VALUES (?, ?, ?, ?, ?)').run('dual.x', ref.archives, ref.xff, ref.method, T).lastInsertRowid);
    rt.services.bus.emit('points', pointBatch([['dual.x', 2, T - 10], ['other.y', 3, T - 10]]), 'test');
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    assert.equal(rt.statsSnapshot().instances['stores.s']!.errors.write_failed ?? 0, 0);
    const got = await store.fetch(['dual.x', 'other.y'], T - 60, T, { now: T });
    assert.deepEqual(got.map((s) => known(s.values)), [[2], [3]]);
    assert.deepEqual(other.prepare('SELECT DISTINCT sid FROM points WHERE sid = ?').all(theirs), [{ sid: theirs }]);
  } finally {
    other.close();
    await rt.stop();
  }
});

test('sqlite: the retention sweep keeps the finer points a roll-up into the next archive still reads (as a whisper file holds them)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'carbonado-sqlite-')), 'carbonado.db');
  const I = 1_700_000_040; // a multiple of 60
  let now = I + 51;
  const rt = await Runtime.create(
    {
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'error' },
      selfMetrics: { intervalSecs: 0 },
      stores: {
        s: {
          type: 'sqlite',
          path,
          retentionSweepSecs: 1,
          schemas: [{ name: 'short', pattern: '.*', retentions: '10s:2m,60s:10m' }],
          aggregation: [{ name: 'avg', pattern: '.*', xFilesFactor: 0.5, aggregationMethod: 'average' }],
        },
      },
    },
    { plugins: builtinPlugins, file: 'sqlite-store-test', clock: () => now },
  );
  await rt.start();
  try {
    const store = rt.instance<StoreInstance>('stores.s')!;
    store.write(pointBatch([0, 10, 20, 30, 40].map((k) => ['short.sweep', 10, I + k] as [string, number, number]).concat([['short.sweep', 100, I + 50]])));
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    // past the 10 s archive's two minutes for I..I+30; sweeps run every second meanwhile
    now = I + 162;
    await new Promise((r) => setTimeout(r, 2500));
    // a late correction of I+50 rolls the minute up again from the 10 s points of I..I+50
    store.write(pointBatch([['short.sweep', 70, I + 50]]));
    await waitFor(() => store.stats!().queue_points === 0, 'commit', 20_000);
    const [s] = await store.fetch(['short.sweep'], I - 600 + 162, I + 162, { now });
    assert.equal(s!.step, 60);
    // whisper: the average of 10, 10, 10, 10, 10 and 70
    assert.equal(s!.values[(I - s!.start) / 60], 20);
  } finally {
    await rt.stop();
  }
});
