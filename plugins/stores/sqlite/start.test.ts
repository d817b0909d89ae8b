// Starting on a database of many series: the store and its writer each read the series table
// (at the same time), the store reports progress as it goes (ctx.startProgress), and series of
// one rule share one header, so every series keeps its own rule's layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ajv } from 'ajv';
import { pointBatch } from '../../../core/index.js';
import { countingStoreContext } from '../../../test/helpers/store-context.js';
import { waitFor } from '../../../test/helpers/carbonado.js';
import { DDL } from './db-schema.js';
import { schema } from './schema.js';
import type { SqliteStoreOptions } from './options.js';
import { SqliteStore } from './sqlite-store.js';

const T = 1_700_000_000;
const SERIES = 40_000;

test('sqlite: a database of 40,000 series under two rules starts with progress reports; each series keeps its rule', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-sqlite-start-'));
  const path = join(dir, 'carbonado.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(DDL);
  const insert = db.prepare('INSERT INTO series (name, archives, xff, method, created) VALUES (?, ?, ?, ?, 0)');
  db.transaction(() => {
    for (let i = 0; i < SERIES; i++) {
      if (i % 2 === 0) insert.run(`fine.h${i % 100}.m${i}`, '[[10,360]]', 0.5, 'average');
      else insert.run(`coarse.h${i % 100}.m${i}`, '[[60,1440],[600,100]]', 0, 'sum');
    }
  })();
  db.close();

  const { ctx, reports } = countingStoreContext('stores.s', T);
  const o = { path, schemas: [{ name: 'new', pattern: '.*', retentions: '1s:1m' }], commitIntervalMs: 10 } as SqliteStoreOptions;
  assert.ok(new Ajv({ useDefaults: true, strict: false }).compile(schema)(o));
  const store = new SqliteStore(ctx, o);
  try {
    await store.start();
    assert.ok(reports() >= 2, `${reports()} progress reports for ${SERIES} series`);
    assert.equal(store.stats().series, SERIES);
    assert.equal((await store.find('fine.h8.*')).length, SERIES / 100);

    // points for series of either rule, and a new series under the configured rule
    store.write(pointBatch([['fine.h0.m0', 1, T - 15], ['coarse.h1.m1', 2, T - 19], ['coarse.h1.m1', 3, T - 10], ['fresh.one', 4, T - 5]]));
    await waitFor(() => store.stats().queue_points === 0, 'the commit');
    assert.equal(ctx.stats.errorsTotal(), 0, JSON.stringify(ctx.stats.snapshot()));
    const [fine, coarse, fresh] = await store.fetch(['fine.h0.m0', 'coarse.h1.m1', 'fresh.one'], T - 50, T, { now: T });
    assert.deepEqual([fine!.step, fine!.consolidation, fine!.xFilesFactor], [10, 'average', 0.5]);
    assert.deepEqual([...fine!.values].filter((v) => !Number.isNaN(v)), [1]);
    assert.deepEqual([coarse!.step, coarse!.consolidation, coarse!.xFilesFactor], [60, 'sum', 0]);
    assert.deepEqual([...coarse!.values].filter((v) => !Number.isNaN(v)), [3], 'both points in one 60 s slot: the last one wins');
    assert.equal(fresh!.step, 1);
    assert.deepEqual([...fresh!.values].filter((v) => !Number.isNaN(v)), [4]);
    assert.equal(store.stats().series, SERIES + 1);
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
