export interface SqliteEventsOptions {
  /** the SQLite file; relative paths resolve against the working directory */
  path: string;
  /** SQLite `synchronous` under WAL: 'full' fsyncs every commit, 'normal' may lose the last commits on power loss */
  synchronous: 'full' | 'normal';
  /** the most events one query returns, whatever the caller asks for */
  maxQueryEvents: number;
}
