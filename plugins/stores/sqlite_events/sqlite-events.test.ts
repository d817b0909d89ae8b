import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storeContext } from '../../../test/annotations/context.js';
import { SqliteEventsStore } from './sqlite-events.js';
import manifest from './index.js';

function tempDb(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'crb-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'sub', 'events.db');
}

function open(path: string): SqliteEventsStore {
  return new SqliteEventsStore(storeContext('stores.events'), { path, synchronous: 'full', maxQueryEvents: 100 });
}

test('events survive a close and reopen; ids are never reused', async (t) => {
  const path = tempDb(t);
  const a = open(path);
  await a.start();
  const e1 = await a.events.addEvent({ when: 1000, what: 'Deploy', data: 'v1', tags: ['deploy', 'hub', 'deploy'] });
  const e2 = await a.events.addEvent({ when: 2000, what: 'Rollback', data: '', tags: [] });
  assert.deepEqual(e1, { id: 1, when: 1000, what: 'Deploy', data: 'v1', tags: ['deploy', 'hub'] });
  assert.equal(await a.events.deleteEvent(e2.id), true);
  await a.stop();

  const b = open(path);
  await b.start();
  assert.deepEqual(await b.events.getEvent(1), e1);
  assert.equal(await b.events.getEvent(2), undefined);
  const e3 = await b.events.addEvent({ when: 3000.5, what: 'Again', data: '', tags: ['x'] });
  assert.equal(e3.id, 3, 'AUTOINCREMENT keeps deleted ids retired');
  assert.deepEqual(b.stats(), { events: 2 });
  await b.stop();

  const raw = new Database(path, { readonly: true });
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  raw.close();
});

test('range is inclusive at both ends and ordered by time; tags match all or any', async (t) => {
  const s = open(tempDb(t));
  await s.start();
  t.after(() => s.stop());
  await s.events.addEvent({ when: 300, what: 'c', data: '', tags: ['deploy', 'web'] });
  await s.events.addEvent({ when: 100, what: 'a', data: '', tags: ['deploy'] });
  await s.events.addEvent({ when: 200, what: 'b', data: '', tags: ['web'] });
  await s.events.addEvent({ when: 400, what: 'd', data: '', tags: [] });
  const whats = (evs: { what: string }[]) => evs.map((e) => e.what).join('');

  assert.equal(whats(await s.events.queryEvents({ from: 100, until: 300 })), 'abc');
  assert.equal(whats(await s.events.queryEvents({ from: 101, until: 299 })), 'b');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ['deploy'] })), 'ac');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ['deploy', 'web'] })), 'c');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ['deploy', 'web', 'web'] })), 'c');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ['deploy', 'web'], tagMatch: 'any' })), 'abc');
  // An unknown tag matches nothing (graphite-web's default mode would ignore it and match 'deploy').
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ['deploy', 'nosuch'] })), '');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ['nosuch'], tagMatch: 'any' })), '');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: [] })), 'abcd');
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, limit: 2 })), 'ab');
  // A tag that looks like SQL is only ever a bound value.
  assert.equal(whats(await s.events.queryEvents({ from: 0, until: 1000, tags: ["') OR 1=1 --"] })), '');
});

test('points are ignored; find and fetch answer empty; calls before start reject', async (t) => {
  const s = open(tempDb(t));
  await assert.rejects(s.events.queryEvents({ from: 0, until: 1 }), /not started/);
  await s.start();
  t.after(() => s.stop());
  s.write({ length: 1, names: ['a.b'], values: new Float64Array([1]), times: new Float64Array([1]) } as never);
  assert.deepEqual(await s.find('*'), []);
  assert.deepEqual(await s.fetch(['a.b'], 0, 10), []);
  assert.equal(await s.events.getEvent(-1), undefined);
  assert.equal(await s.events.deleteEvent(99), false);
});

test('manifest claims the database file as a resource', () => {
  assert.equal(manifest.name, 'sqlite_events');
  const res = manifest.resources!({ path: 'x/events.db', synchronous: 'full', maxQueryEvents: 1 });
  assert.equal(res.length, 1);
  assert.equal(res[0]!.kind, 'file');
});

test('a database from a newer carbonado is refused, not rewritten', async (t) => {
  const path = tempDb(t);
  const s = open(path);
  await s.start();
  await s.stop();
  const raw = new Database(path);
  raw.pragma('user_version = 99');
  raw.close();
  await assert.rejects(open(path).start(), /schema version 99/);
});

test('one instance can be started and stopped repeatedly', async (t) => {
  const s = open(tempDb(t));
  for (let i = 0; i < 5; i++) {
    await s.start();
    await s.events.addEvent({ when: i, what: `run ${i}`, data: '', tags: ['r'] });
    assert.equal((await s.events.queryEvents({ from: 0, until: 10, tags: ['r'] })).length, i + 1);
    await s.stop();
  }
  await s.stop();
});
