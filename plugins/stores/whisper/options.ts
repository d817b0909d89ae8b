import type { AggregationMethod } from '../../shared/whisper-format/header.js';

export interface SchemaRuleOption {
  /** a label for logs and self-metrics */
  name: string;
  /** regex searched (unanchored) in the series name; first matching rule wins */
  pattern: string;
  /** carbon syntax: `10s:6h,1m:7d,10m:5y` (one-letter units) */
  retentions: string;
}

export interface AggregationRuleOption {
  name: string;
  pattern: string;
  xFilesFactor: number;
  aggregationMethod: AggregationMethod;
}

export interface WhisperStoreOptions {
  /** root of the Whisper tree (`a.b.c` → `<dataDir>/a/b/c.wsp`) */
  dataDir: string;
  /** carbon storage-schemas.conf to read as is (its rules come after the inline `schemas`); '' for none */
  schemasFile: string;
  /** carbon storage-aggregation.conf to read as is (after the inline `aggregation`); '' for none */
  aggregationFile: string;
  /** inline retention rules, first match wins; carbon's fallback 60s:7d applies after them */
  schemas: SchemaRuleOption[];
  /** inline aggregation rules, first match wins; whisper's fallback (average, 0.5) applies after them */
  aggregation: AggregationRuleOption[];
  /** how new files get their data area: written with zeros (whisper's default) or sparse */
  allocation: 'sparse' | 'zero';
  /** memory budget of the write-back cache in points; beyond it new points are dropped and counted */
  cacheMaxPoints: number;
  /** percentage of cacheMaxPoints at which the store signals pressure (stream inputs pause) */
  pressureHighPercent: number;
  /** percentage at which pressure is released */
  pressureLowPercent: number;
  /** file updates per second; 0 for no limit (fewer updates means more points per update) */
  maxUpdatesPerSecond: number;
  /** new files per minute; 0 for no limit. Series over the limit wait in the cache (never dropped) */
  maxCreatesPerMinute: number;
  /**
   * While points keep arriving, a series' points wait up to this long to be written together
   * (more points per update, less CPU); they are written as soon as the stream pauses. 0 writes
   * continuously, as carbon-cache does. New series are created at once either way.
   */
  writeCoalesceMs: number;
  /** worker threads that write files (synchronous positioned I/O off the event loop) */
  persistThreads: number | 'auto';
  /** 'wal' logs accepted points before acknowledging them, replayed after a crash; 'none' keeps them only in memory */
  durability: 'wal' | 'none';
  /** WAL writes are handed to the OS at this interval: the most a kill -9 can lose */
  walFlushIntervalMs: number;
  /** WAL fsync interval: the most a power loss can lose */
  walSyncIntervalMs: number;
  /** a new WAL segment starts this often; fully persisted segments are deleted */
  walSegmentSecs: number;
  /** directory of the WAL; '' puts it in `<dataDir>/.carbonado-wal` (hidden from graphite-web) */
  walDir: string;
}
