import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  EventQuery,
  EventRecord,
  EventStore,
  FindNode,
  PointBatch,
  SeriesData,
  StoreContext,
  StoreInstance,
} from '../../../core/index.js';
import type { SqliteEventsOptions } from './options.js';

/** Bumped when the table layout changes; `migrate` brings older files forward. */
const SCHEMA_VERSION = 1;

interface EventRow {
  id: number;
  when_s: number;
  what: string;
  data: string;
  tags: string;
}

/**
 * A store that holds annotations only. Points are ignored (this store sits next to a real
 * series store) and find/fetch answer empty, so pointing `query.store` here by mistake shows an
 * empty tree rather than failing.
 *
 * better-sqlite3 is synchronous: each call blocks the event loop for the duration of one small
 * indexed statement (microseconds; a commit with synchronous=full is one fsync). Annotations
 * arrive a few times a day, so that is acceptable here, and it would not be for datapoints.
 */
export class SqliteEventsStore implements StoreInstance {
  /** keeps no series: never the default query store */
  readonly holdsSeries = false;
  readonly takesPoints = false;
  readonly events: EventStore;
  private db: Database.Database | undefined;
  private stmts: ReturnType<typeof prepare> | undefined;

  constructor(
    private readonly ctx: StoreContext,
    private readonly options: Readonly<SqliteEventsOptions>,
  ) {
    // The capability object is fixed at create time (the runtime reads `events` before start);
    // its methods reach the database only once start() has opened it.
    this.events = {
      addEvent: async (e) => this.add(e),
      getEvent: async (id) => this.get(id),
      queryEvents: async (q) => this.query(q),
      deleteEvent: async (id) => this.delete(id),
    };
  }

  async start(): Promise<void> {
    const file = resolve(this.options.path);
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      this.stmts = prepare(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.ctx.log.info('annotations store open', { path: file, events: this.count() });
  }

  async stop(): Promise<void> {
    // Every write committed synchronously, so there is nothing to drain; close checkpoints the WAL.
    const db = this.db;
    this.db = undefined;
    this.stmts = undefined;
    db?.close();
  }

  stats(): Record<string, number> {
    return this.db ? { events: this.count() } : {};
  }

  /** Datapoints are not this store's business (`takesPoints`: the runtime does not send them). */
  write(_batch: PointBatch): void {}

  async find(_pattern: string): Promise<FindNode[]> {
    return [];
  }

  async fetch(_names: readonly string[], _from: number, _until: number): Promise<SeriesData[]> {
    return [];
  }

  private open(): ReturnType<typeof prepare> {
    if (!this.stmts) throw new Error(`${this.ctx.id} is not started`);
    return this.stmts;
  }

  private count(): number {
    return (this.open().count.get() as { n: number }).n;
  }

  private add(e: Omit<EventRecord, 'id'>): EventRecord {
    const s = this.open();
    const tags = uniqueTags(e.tags);
    const id = s.addTx(e.when, e.what, e.data, tags);
    this.ctx.stats.count('added');
    return { id, when: e.when, what: e.what, data: e.data, tags };
  }

  private get(id: number): EventRecord | undefined {
    if (!Number.isSafeInteger(id) || id < 1) return undefined;
    const row = this.open().get.get(id) as EventRow | undefined;
    return row && toRecord(row);
  }

  private delete(id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) return false;
    const deleted = this.open().delete.run(id).changes > 0;
    if (deleted) this.ctx.stats.count('deleted');
    return deleted;
  }

  /** `from` and `until` are both inclusive, as graphite-web's events query is. */
  private query(q: EventQuery): EventRecord[] {
    const s = this.open();
    const limit = Math.min(q.limit ?? this.options.maxQueryEvents, this.options.maxQueryEvents);
    const tags = q.tags ? uniqueTags(q.tags) : [];
    let rows: EventRow[];
    if (tags.length === 0) rows = s.range.all(q.from, q.until, limit) as EventRow[];
    else if (q.tagMatch === 'any') rows = s.rangeAny.all(q.from, q.until, JSON.stringify(tags), limit) as EventRow[];
    else rows = s.rangeAll.all(q.from, q.until, JSON.stringify(tags), tags.length, limit) as EventRow[];
    return rows.map(toRecord);
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`events database has schema version ${version}, newer than this carbonado (${SCHEMA_VERSION})`);
  }
  if (version === SCHEMA_VERSION) return;
  // AUTOINCREMENT: ids are never reused after a delete, so a Grafana that cached an id never
  // sees it point at a different event.
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      id     INTEGER PRIMARY KEY AUTOINCREMENT,
      when_s REAL    NOT NULL,
      what   TEXT    NOT NULL,
      data   TEXT    NOT NULL DEFAULT '',
      tags   TEXT    NOT NULL DEFAULT '[]'
    );
    CREATE INDEX IF NOT EXISTS events_by_when ON events (when_s, id);
    CREATE TABLE IF NOT EXISTS event_tags (
      tag      TEXT    NOT NULL,
      event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
      PRIMARY KEY (tag, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS event_tags_by_event ON event_tags (event_id);
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}

/**
 * Every statement prepared once. Tag lists travel as one JSON array bound to `json_each(?)`, so
 * a query with any number of tags still uses a prepared statement (no SQL built from input).
 */
function prepare(db: Database.Database) {
  const cols = 'id, when_s, what, data, tags';
  const insertEvent = db.prepare('INSERT INTO events (when_s, what, data, tags) VALUES (?, ?, ?, ?)');
  const insertTag = db.prepare('INSERT OR IGNORE INTO event_tags (tag, event_id) VALUES (?, ?)');
  const addTx = db.transaction((when: number, what: string, data: string, tags: readonly string[]): number => {
    const id = Number(insertEvent.run(when, what, data, JSON.stringify(tags)).lastInsertRowid);
    for (const t of tags) insertTag.run(t, id);
    return id;
  });
  return {
    addTx,
    count: db.prepare('SELECT COUNT(*) AS n FROM events'),
    get: db.prepare(`SELECT ${cols} FROM events WHERE id = ?`),
    delete: db.prepare('DELETE FROM events WHERE id = ?'),
    range: db.prepare(`SELECT ${cols} FROM events WHERE when_s >= ? AND when_s <= ? ORDER BY when_s, id LIMIT ?`),
    rangeAny: db.prepare(
      `SELECT ${cols} FROM events WHERE when_s >= ? AND when_s <= ?
         AND id IN (SELECT event_id FROM event_tags WHERE tag IN (SELECT value FROM json_each(?)))
       ORDER BY when_s, id LIMIT ?`,
    ),
    // The tags bound are distinct, so an event carries all of them exactly when it matches that many.
    rangeAll: db.prepare(
      `SELECT ${cols} FROM events WHERE when_s >= ? AND when_s <= ?
         AND id IN (SELECT event_id FROM event_tags WHERE tag IN (SELECT value FROM json_each(?))
                    GROUP BY event_id HAVING COUNT(*) = ?)
       ORDER BY when_s, id LIMIT ?`,
    ),
  };
}

function toRecord(row: EventRow): EventRecord {
  let tags: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.tags);
    if (Array.isArray(parsed)) tags = parsed.filter((t): t is string => typeof t === 'string');
  } catch {
    // a hand-edited row: show the event without tags rather than failing the whole query
  }
  return { id: row.id, when: row.when_s, what: row.what, data: row.data, tags };
}

/** First occurrence wins, order kept: the tags come back in the order they were given. */
function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}
