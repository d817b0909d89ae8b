/** The database layout. One row per occupied whisper slot: (series, archive, slot) → (ts, value). */
export const SCHEMA_VERSION = 1;

export const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  archives TEXT NOT NULL,         -- JSON [[secondsPerPoint, points], ...], finest first
  xff REAL NOT NULL,
  method TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
  sid INTEGER NOT NULL,
  archive INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL,                     -- NULL stands for NaN (SQLite has no NaN)
  PRIMARY KEY (sid, archive, slot)
) WITHOUT ROWID;
`;

export interface SeriesRow {
  id: number;
  name: string;
  archives: string;
  xff: number;
  method: string;
}
