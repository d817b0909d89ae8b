// The SQLite writer: owns the only write connection, in a worker thread so that commits, index
// updates and fsyncs never block the event loop that reads sockets. Messages are described in
// worker-protocol.ts.
import { parentPort } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AggregationMethod, ArchiveSpec, WhisperHeader } from '../../shared/whisper-format/index.js';
import { DDL, SCHEMA_VERSION, type SeriesRow } from './db-schema.js';
import { Layouts, slotOf, updateManySlots, type SlotIO } from './archive-math.js';
import type { ToWorker, FromWorker } from './worker-protocol.js';

/** Worker state lives in this object (one writer per worker thread). */
const state: { db: Database.Database | undefined; sweepCursor: number } = { db: undefined, sweepCursor: 0 };
const port = parentPort!;
const series = new Map<string, { id: number; header: WhisperHeader }>();
const layouts = new Layouts();

function send(m: FromWorker): void {
  port.postMessage(m);
}

port.on('message', (m: ToWorker) => {
  try {
    switch (m.type) {
      case 'open':
        open(m.path, m.synchronous);
        send({ type: 'opened' });
        break;
      case 'load':
        load();
        send({ type: 'loaded' });
        break;
      case 'apply':
        send(apply(m));
        break;
      case 'sweep':
        send({ type: 'swept', deleted: sweep(m.now, m.maxSeries) });
        break;
      case 'close':
        if (state.db) {
          try {
            state.db.pragma('wal_checkpoint(TRUNCATE)');
          } catch {
            // a full disk: the WAL stays beside the database, and SQLite replays it at the next open
          }
          state.db.close();
          state.db = undefined;
        }
        send({ type: 'closed' });
        break;
    }
  } catch (err) {
    send({ type: 'error', seq: m.type === 'apply' ? m.seq : -1, message: (err as Error).message, code: (err as { code?: string }).code ?? '' });
  }
});

function open(path: string, synchronous: 'normal' | 'full'): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = (state.db = new Database(path));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.exec(DDL);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
}

function load(): void {
  series.clear();
  for (const r of state.db!.prepare('SELECT id, name, archives, xff, method FROM series').iterate() as IterableIterator<SeriesRow>) {
    series.set(r.name, { id: r.id, header: layouts.of(r.archives, r.xff, r.method as AggregationMethod).header });
  }
}

function apply(m: Extract<ToWorker, { type: 'apply' }>): FromWorker {
  const d = state.db!;
  const t0 = performance.now();
  const insertSeries = d.prepare('INSERT INTO series (name, archives, xff, method, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING');
  const existing = d.prepare('SELECT id, name, archives, xff, method FROM series WHERE name = ?');
  const write = d.prepare('INSERT OR REPLACE INTO points (sid, archive, slot, ts, value) VALUES (?, ?, ?, ?, ?)');
  const readRange = d.prepare('SELECT slot, ts, value FROM points WHERE sid = ? AND archive = ? AND slot BETWEEN ? AND ?');
  const created: Array<{ name: string; id: number }> = [];
  // series inserted by this transaction: known to later ones only once it commits (a rolled-back
  // insert's id is handed out again to the next series)
  const fresh = new Map<string, { id: number; header: WhisperHeader }>();
  let written = 0;
  let tooOld = 0;
  let unknown = 0;
  d.transaction(() => {
    for (const s of m.newSeries) {
      if (series.has(s.name) || fresh.has(s.name)) continue;
      const archives = JSON.stringify(s.archives);
      const ins = insertSeries.run(s.name, archives, s.xff, s.method, m.now);
      if (ins.changes === 0) {
        // already in the table, written by someone else (an import, or a second carbonado on the
        // same file against the README's advice): its points go under that row and its retention.
        // A plain INSERT failed the whole transaction here, and every retry after it, so not one
        // point of any series was written again until a restart.
        const r = existing.get(s.name) as SeriesRow;
        fresh.set(s.name, { id: r.id, header: layouts.of(r.archives, r.xff, r.method as AggregationMethod).header });
        created.push({ name: s.name, id: r.id });
        continue;
      }
      const id = Number(ins.lastInsertRowid);
      fresh.set(s.name, { id, header: layouts.of(archives, s.xff, s.method).header });
      created.push({ name: s.name, id });
    }
    // carbon's cache semantics: per series, one value per (truncated) timestamp, last received wins
    const groups = new Map<string, Map<number, number>>();
    for (let i = 0; i < m.names.length; i++) {
      const name = m.names[i]!;
      let g = groups.get(name);
      if (!g) groups.set(name, (g = new Map()));
      const t = Math.trunc(m.times[i]!);
      g.delete(t);
      g.set(t, m.values[i]!);
    }
    for (const [name, points] of groups) {
      const s = series.get(name) ?? fresh.get(name);
      if (!s) {
        unknown += points.size; // the store defines a series in every chunk until it has an id: a bug if seen
        continue;
      }
      const io: SlotIO = {
        read(ai, t0s, count) {
          const a = s.header.archives[ai]!;
          const first = slotOf(t0s, a.secondsPerPoint, a.points);
          const want = new Map<number, number>();
          const rows: Array<{ slot: number; ts: number; value: number | null }> = [];
          const n = Math.min(count, a.points);
          if (first + n <= a.points) rows.push(...(readRange.all(s.id, ai, first, first + n - 1) as typeof rows));
          else {
            // a range across the end of the ring (propagation reads one lower interval: a few rows)
            rows.push(...(readRange.all(s.id, ai, first, a.points - 1) as typeof rows));
            rows.push(...(readRange.all(s.id, ai, 0, first + n - a.points - 1) as typeof rows));
          }
          for (const r of rows) want.set(r.ts, r.value ?? NaN);
          const out = new Array<number | undefined>(count);
          for (let k = 0; k < count; k++) out[k] = want.get(t0s + k * a.secondsPerPoint);
          return out;
        },
        write(ai, ts, value) {
          const a = s.header.archives[ai]!;
          write.run(s.id, ai, slotOf(ts, a.secondsPerPoint, a.points), ts, Number.isNaN(value) ? null : value);
        },
      };
      const times = [...points.keys()];
      const values = [...points.values()];
      const r = updateManySlots(s.header, times, values, times.length, m.now, io);
      written += r.written;
      tooOld += r.tooOld;
    }
  })();
  for (const [name, s] of fresh) series.set(name, s);
  return { type: 'applied', seq: m.seq, created, written, tooOld, unknown, ms: performance.now() - t0 };
}

/** Deletes points older than their archive's retention for up to `maxSeries` series per call. */
function sweep(now: number, maxSeries: number): number {
  const d = state.db!;
  const ids = d.prepare('SELECT id, archives FROM series WHERE id > ? ORDER BY id LIMIT ?').all(state.sweepCursor, maxSeries) as Array<{ id: number; archives: string }>;
  if (ids.length === 0) {
    state.sweepCursor = 0;
    return 0;
  }
  const del = d.prepare('DELETE FROM points WHERE sid = ? AND archive = ? AND ts < ?');
  let deleted = 0;
  d.transaction(() => {
    for (const { id, archives } of ids) {
      const specs = JSON.parse(archives) as ArchiveSpec[];
      specs.forEach(([step, points], ai) => {
        // a point written to the next archive is rolled up from this one's points of its whole
        // interval, which start up to that archive's step before this one's retention: a whisper
        // file still holds them (its ring keeps a slot until a newer lap writes it), so keep them
        const margin = specs[ai + 1]?.[0] ?? step;
        deleted += del.run(id, ai, Math.trunc(now) - step * points - margin).changes;
      });
    }
  })();
  state.sweepCursor = ids[ids.length - 1]!.id;
  return deleted;
}
