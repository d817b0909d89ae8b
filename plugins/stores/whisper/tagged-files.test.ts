// Tagged series in a data directory carbon wrote: files named after the series (carbon's
// TAG_HASH_FILENAMES = False) are moved to their hashed names as carbon-cache does, and the names
// of hashed files come from graphite-web's tag database through `carbonado import-tags`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startInProcess, waitFor, REPO_ROOT, type InProcess } from '../../../test/helpers/carbonado.js';
import { pointBatch } from '../../../core/index.js';
import type { WhisperStore } from './whisper-store.js';
import { importTaggedNames, moveToHashedNames, readableFileName, readableTaggedName, readTaggedNamesFile, sha256Hex, TAGGED_NAMES_FILE } from './tagged-files.js';
import { readTagNameSource } from '../../../cli/tag-name-sources.js';
import { carbonadoFromSource } from '../../../test/helpers/from-source.js';

const NOW = Math.floor(Date.now() / 1000);
const T0 = NOW - (NOW % 10) - 100;

async function start(dataDir: string): Promise<{ c: InProcess; store: WhisperStore }> {
  const c = await startInProcess({ stores: { main: { type: 'whisper', dataDir, schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1h' }] } } });
  return { c, store: c.runtime.instance<WhisperStore>('stores.main')! };
}

/** Writes the series with carbonado, stops it and forgets the names: a tree as carbon leaves it. */
async function carbonLikeTree(dir: string, points: Array<[string, number, number]>): Promise<void> {
  const { c, store } = await start(dir);
  store.write(pointBatch(points));
  await waitFor(() => store.stats().cache_points === 0, 'written');
  await c.stop();
  await rm(join(dir, TAGGED_NAMES_FILE), { force: true });
  await rm(join(dir, '.carbonado-wal'), { recursive: true, force: true });
}

function hashedFile(dir: string, name: string): string {
  const h = sha256Hex(name);
  return join(dir, '_tagged', h.slice(0, 3), h.slice(3, 6), `${h}.wsp`);
}

function readableFile(dir: string, name: string): string {
  const h = sha256Hex(name);
  return join(dir, '_tagged', h.slice(0, 3), h.slice(3, 6), `${name.replaceAll('.', '_DOT_')}.wsp`);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

test('readableTaggedName: the name is taken only where its hash names the directories', () => {
  const name = 'some.metric;tag1=value2;tag2=value.2';
  const h = sha256Hex(name);
  assert.equal(readableTaggedName(`_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.`, 'some_DOT_metric;tag1=value2;tag2=value_DOT_2'), name);
  assert.equal(readableTaggedName('_tagged.000.000.', 'some_DOT_metric;tag1=value2;tag2=value_DOT_2'), undefined);
  assert.equal(readableTaggedName(`_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.`, h), undefined); // a hashed file
  assert.equal(readableTaggedName('other.', 'x;k=v'), undefined);
  // tags out of order in the file name: the canonical (sorted) form is what carbon hashed
  const sorted = 'm;a=1;b=2';
  const hs = sha256Hex(sorted);
  assert.equal(readableTaggedName(`_tagged.${hs.slice(0, 3)}.${hs.slice(3, 6)}.`, 'm;b=2;a=1'), sorted);
  // a name with `_DOT_` of its own: carbon wrote `app_DOT__DOT_x...`; the hash picks the reading
  for (const n of ['app_DOT_x.cpu;dc=eu', 'a.b_DOT_c;k=v_DOT_w.x', '_DOT_.m;k=v', 'a_DOT.b;k=v', 'x;k=1_DOT.5', 'a._DOT_DOT_.b;k=v']) {
    const hn = sha256Hex(n);
    assert.equal(readableTaggedName(`_tagged.${hn.slice(0, 3)}.${hn.slice(3, 6)}.`, readableFileName(n).slice(0, -4)), n);
  }
});

test('two moves of one file at once (a walk and a create): both see it moved, neither reports it left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tagged-race-'));
  try {
    for (let i = 0; i < 40; i++) {
      const name = `race.m${i};k=v`;
      const h = sha256Hex(name);
      const sub = join(dir, '_tagged', h.slice(0, 3), h.slice(3, 6));
      await mkdir(sub, { recursive: true });
      await writeFile(join(sub, readableFileName(name)), 'x');
      const f = { dir: sub, file: readableFileName(name), name };
      const [a, b] = await Promise.all([moveToHashedNames(dir, [f]), moveToHashedNames(dir, [f])]);
      assert.deepEqual([a.moved, b.moved, a.left, b.left], [[true], [true], [], []], name);
      assert.deepEqual(await readdir(sub), [`${h}.wsp`]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a tagged file named after its series is moved to its hashed name: found by tag, and new points join the old ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tagged-readable-'));
  const legacy = 'legacy.cpu;dc=eu;host=a.b';
  const both = 'both.m;k=v';
  const crashed = 'crashed.m;k=w';
  await carbonLikeTree(dir, [[legacy, 1, T0], [both, 2, T0], [crashed, 3, T0]]);
  // carbon with TAG_HASH_FILENAMES = False wrote `legacy` under its readable name
  await rename(hashedFile(dir, legacy), readableFile(dir, legacy));
  // `both` has a copy under each name: the readable one is left alone and reported
  await copyFile(hashedFile(dir, both), readableFile(dir, both));
  // `crashed` is one file under both names: a link whose unlink a crash cut short
  await link(hashedFile(dir, crashed), readableFile(dir, crashed));
  // a readable-looking name in directories that are not its hash is not a tagged series of ours
  await mkdir(join(dir, '_tagged', '000', '000'), { recursive: true });
  await copyFile(hashedFile(dir, both), join(dir, '_tagged', '000', '000', 'stray_DOT_m;k=v.wsp'));

  let { c, store } = await start(dir);
  try {
    assert.equal(await exists(readableFile(dir, legacy)), false);
    assert.equal(await exists(hashedFile(dir, legacy)), true);
    assert.equal(await exists(readableFile(dir, crashed)), false);
    assert.equal(await exists(readableFile(dir, both)), true);
    assert.equal(await exists(join(dir, '_tagged', '000', '000', 'stray_DOT_m;k=v.wsp')), true);
    const stats = c.stats().instances['stores.main']!;
    assert.equal(stats.counters.tagged_files_renamed, 2);
    assert.equal(stats.errors.tagged_rename, 1);
    assert.deepEqual(await store.tags.tagValues('dc'), ['eu']);
    assert.deepEqual((await store.find(legacy)).map((n) => n.path), [legacy]);
    // one per file: legacy and crashed by name; both's two files and the stray one by path
    assert.equal(store.stats().series_on_disk, 5, 'at start');
    // a file left under a readable name is read by its path, as graphite-web reads it
    const [stray] = await store.fetch(['_tagged.000.000.stray_DOT_m;k=v'], T0 - 10, T0 + 10);
    assert.equal(stray!.values[(T0 - stray!.start) / 10], 2);
    const [old] = await store.fetch([legacy], T0 - 10, T0 + 30);
    assert.equal(old!.values[(T0 - old!.start) / 10], 1);
    // the names are recorded (before the files moved): the next start knows them without the readable files
    assert.deepEqual((await readFile(join(dir, TAGGED_NAMES_FILE), 'utf8')).split('\n').filter(Boolean).sort(), [both, crashed, legacy].sort());
    store.write(pointBatch([[legacy, 5, T0 + 10]]));
    await waitFor(() => store.stats().cache_points === 0, 'written');
    await c.stop();
    ({ c, store } = await start(dir));
    assert.deepEqual(await store.tags.tagValues('host'), ['a.b']);
    assert.equal(store.stats().series_on_disk, 5, 'after restart');
    c.runtime.services.bus.emit('reload');
    await waitFor(() => (c.stats().instances['stores.main']!.counters.rescans ?? 0) === 1, 'rescanned');
    // the walk keeps the files whose names have a `;` but are not tagged series, and reports the
    // file it cannot move once, not at every walk
    assert.equal(store.stats().series_on_disk, 5, 'after a rescan');
    assert.equal((await store.find('_tagged.000.000.*')).length, 1);
    assert.equal(c.stats().instances['stores.main']!.errors.tagged_rename, 1);
    const [after] = await store.fetch([legacy], T0 - 10, T0 + 30);
    const i = (T0 - after!.start) / 10;
    assert.deepEqual([after!.values[i], after!.values[i + 1]], [1, 5]);
    assert.equal((await readdir(join(dir, '_tagged', sha256Hex(legacy).slice(0, 3), sha256Hex(legacy).slice(3, 6)))).length, 1);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a readable-named file that arrives while the store runs: moved by a SIGHUP walk, or before the create of its series', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tagged-live-'));
  const walked = 'walked.m;k=v';
  const created = 'created.m;k=w';
  const source = await mkdtemp(join(tmpdir(), 'carbonado-tagged-src-'));
  await carbonLikeTree(source, [[walked, 1, T0], [created, 2, T0]]);
  const { c, store } = await start(dir);
  try {
    // a restore from a carbon with TAG_HASH_FILENAMES = False, while carbonado runs
    const restore = async (n: string) => {
      await mkdir(join(readableFile(dir, n), '..'), { recursive: true });
      await copyFile(hashedFile(source, n), readableFile(dir, n));
    };
    await restore(walked);
    c.runtime.services.bus.emit('reload');
    await waitFor(() => (c.stats().instances['stores.main']!.counters.rescans ?? 0) === 1, 'rescanned');
    assert.equal(await exists(hashedFile(dir, walked)), true);
    assert.deepEqual(await store.tags.tagValues('k'), ['v']);
    // restored after the walk, and a point comes before any other walk: carbon-cache's exists()
    // moves the file before writing, and so does the store (else the point would start a new file)
    await restore(created);
    store.write(pointBatch([[created, 7, T0 + 10]]));
    await waitFor(() => store.stats().cache_points === 0, 'written');
    assert.equal(await exists(readableFile(dir, created)), false);
    const [v] = await store.fetch([created], T0 - 10, T0 + 30);
    const i = (T0 - v!.start) / 10;
    assert.deepEqual([v!.values[i], v!.values[i + 1]], [2, 7]);
    assert.equal(c.stats().instances['stores.main']!.counters.tagged_files_renamed, 2);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(source, { recursive: true, force: true });
  }
});

test('when the names cannot be recorded, readable-named files stay where they are and are read by their paths', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tagged-norecord-'));
  const name = 'kept.m;k=v';
  await carbonLikeTree(dir, [[name, 4, T0]]);
  await rename(hashedFile(dir, name), readableFile(dir, name));
  await mkdir(join(dir, TAGGED_NAMES_FILE)); // appending to it fails (EISDIR)
  const { c, store } = await start(dir);
  try {
    assert.equal(await exists(readableFile(dir, name)), true);
    assert.equal(c.stats().instances['stores.main']!.errors.tagged_names, 1);
    const h = sha256Hex(name);
    const path = `_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.${readableFile(dir, name).split('/').pop()!.slice(0, -4)}`;
    const [v] = await store.fetch([path], T0 - 10, T0 + 10);
    assert.equal(v!.values[(T0 - v!.start) / 10], 4);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('import-tags: the names of hashed files from graphite-web\'s database reach a running store on SIGHUP', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tagged-import-'));
  const names = ['h.cpu;dc=eu;host=c', 'h.disk;dc=us;mount=/var'];
  await carbonLikeTree(dir, names.map((n, i) => [n, i + 1, T0]));
  // graphite-web's tags_series table, as its migration creates it (the interop test uses the real one)
  const db = new Database(join(dir, 'graphite.db'));
  db.exec('CREATE TABLE "tags_series" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "hash" varchar(64) NOT NULL UNIQUE, "path" text NOT NULL)');
  const ins = db.prepare('INSERT INTO tags_series (hash, path) VALUES (?, ?)');
  for (const n of [...names, 'gone.m;k=v', 'bad name;k=v', 'plain.series']) ins.run(sha256Hex(n), n);
  db.close();
  const { c, store } = await start(dir);
  try {
    // without the names, the files are found by path only
    assert.deepEqual(await store.tags.tagValues('dc'), []);
    assert.equal(store.stats().series_on_disk, 2);
    assert.equal((await store.find('_tagged.*.*.*')).length, 2);
    const cfg = join(dir, 'c.yaml');
    await writeFile(cfg, `stores:\n  main: { type: whisper, dataDir: ${JSON.stringify(dir)} }\n`);
    const r = spawnSync(process.execPath, [...carbonadoFromSource(), 'import-tags', join(dir, 'graphite.db'), '--config', cfg], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { names: 5, added: 2, known: 0, readable_file: 0, no_file: 1, untagged: 1, bad_name: 1 });
    // again: nothing new
    assert.equal((await importTaggedNames(dir, await readTagNameSource(join(dir, 'graphite.db')))).known, 2);
    c.runtime.services.bus.emit('reload'); // what the CLI does on SIGHUP
    await waitFor(async () => (await store.tags.tagValues('dc')).length === 2, 'names learnt on SIGHUP');
    assert.equal(store.stats().series_on_disk, 2);
    const [disk] = await store.fetch(['h.disk;dc=us;mount=/var'], T0 - 10, T0 + 10);
    assert.equal(disk!.values[(T0 - disk!.start) / 10], 2);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('import-tags: a name written with its tags out of order is put in the form carbon hashed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tagged-order-'));
  try {
    await carbonLikeTree(dir, [['disk.used;dev=sda;host=a', 1, T0]]);
    // and two spellings of it in one list are one name
    const counts = await importTaggedNames(dir, ['disk.used;host=a;dev=sda', 'disk.used;dev=sda;host=a']);
    assert.deepEqual([counts.added, counts.bad_name], [1, 0]);
    assert.deepEqual(await readTaggedNamesFile(dir), ['disk.used;dev=sda;host=a']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tag name sources: text with comments, a JSON array; clear errors for anything else', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-tag-sources-'));
  try {
    await writeFile(join(dir, 'names.txt'), '# exported\na;k=v\n\n  b;k=w  \n');
    assert.deepEqual(await readTagNameSource(join(dir, 'names.txt')), ['a;k=v', 'b;k=w']);
    await writeFile(join(dir, 'names.json'), '["a;k=v", "c;k=x"]');
    assert.deepEqual(await readTagNameSource(join(dir, 'names.json')), ['a;k=v', 'c;k=x']);
    await writeFile(join(dir, 'bad.json'), '[1, 2]');
    await assert.rejects(readTagNameSource(join(dir, 'bad.json')), /expected a JSON array of series names/);
    await writeFile(join(dir, 'broken.json'), '["a;k=v",');
    await assert.rejects(readTagNameSource(join(dir, 'broken.json')), /broken\.json: not valid JSON/);
    const other = new Database(join(dir, 'other.db'));
    other.exec('CREATE TABLE t (x)');
    other.close();
    await assert.rejects(readTagNameSource(join(dir, 'other.db')), /without graphite-web's tags_series table/);
    await assert.rejects(readTagNameSource(join(dir, 'missing.db')), /missing\.db.*ENOENT|ENOENT.*missing\.db/);
    await assert.rejects(readTagNameSource(dir), new RegExp(`^Error: ${dir}: .*EISDIR`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
