// A read thread of the SQLite store: its own read-only connection (WAL lets it read while the
// writer commits), so that the row-by-row work of a large fetch (~0.5 µs a row: two seconds for a
// 2,000-series week at one-minute steps) never holds the event loop. Messages: read-protocol.ts.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { aborted } from '../../../core/runtime/abort-flag.js';
import { slotOf } from './archive-math.js';
import type { FromReader, RangeRead, ToReader } from './read-protocol.js';

const port = parentPort!;
const path = (workerData as { path: string }).path;
/** The connection opens at the first message; one that fails to open is tried again at the next. */
const state: { db: Database.Database | undefined; range: Database.Statement | undefined } = { db: undefined, range: undefined };

function rangeStatement(): Database.Statement {
  if (state.range) return state.range;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // rows as [ts, value] arrays: an object per row made reads ~2x slower
    state.range = db.prepare('SELECT ts, value FROM points WHERE sid = ? AND archive = ? AND slot BETWEEN ? AND ?').raw(true);
  } catch (err) {
    db.close();
    throw err;
  }
  state.db = db;
  return state.range;
}

/** Fills `values` (the grid of `r`) from the archive's rows; a row of another lap of the ring is not this grid's. */
function fill(stmt: Database.Statement, r: RangeRead, values: Float64Array): void {
  const { step, points, start } = r;
  const n = Math.min(values.length, points);
  const first = slotOf(start, step, points);
  const end = start + values.length * step;
  const place = (rows: unknown[]): void => {
    for (const row of rows as Array<[number, number | null]>) {
      const ts = row[0];
      if (ts < start || ts >= end || (ts - start) % step !== 0) continue;
      values[(ts - start) / step] = row[1] ?? NaN;
    }
  };
  if (first + n <= points) place(stmt.all(r.sid, r.archive, first, first + n - 1));
  else {
    // the range wraps around the end of the archive's ring
    place(stmt.all(r.sid, r.archive, first, points - 1));
    place(stmt.all(r.sid, r.archive, 0, first + n - points - 1));
  }
}

/**
 * Each read's grid in a buffer of its own (a grid kept by a caller keeps only itself alive), or
 * why not: a read the database refuses, or too large to allocate, fails alone, never the thread
 * (which would fail every other fetch waiting on it).
 */
function read(reads: readonly RangeRead[], stop: Int32Array | undefined): { values: Array<Float64Array | undefined>; failures: Array<{ i: number; message: string }> } {
  const values: Array<Float64Array | undefined> = new Array(reads.length).fill(undefined);
  const failures: Array<{ i: number; message: string }> = [];
  let stmt: Database.Statement;
  try {
    stmt = rangeStatement();
  } catch (err) {
    for (let i = 0; i < reads.length; i++) failures.push({ i, message: (err as Error).message });
    return { values, failures };
  }
  for (let i = 0; i < reads.length; i++) {
    if (aborted(stop)) {
      failures.push({ i, message: 'the caller gave up' });
      continue;
    }
    try {
      const grid = new Float64Array(reads[i]!.length).fill(NaN);
      fill(stmt, reads[i]!, grid);
      values[i] = grid;
    } catch (err) {
      failures.push({ i, message: (err as Error).message });
    }
  }
  return { values, failures };
}

port.on('message', (m: ToReader) => {
  if (m.type === 'close') {
    state.db?.close();
    state.db = undefined;
    state.range = undefined;
    port.postMessage({ type: 'closed', id: m.id } satisfies FromReader);
    return;
  }
  // an empty read (the pool's warm-up) opens the connection too: from then on the thread reads
  // the file it opened, even if the path is removed or replaced
  const { values, failures } = read(m.reads, m.stop);
  const transfer = values.filter((v): v is Float64Array => v !== undefined).map((v) => v.buffer as ArrayBuffer);
  port.postMessage({ type: 'read', id: m.id, values, failures } satisfies FromReader, transfer);
});
