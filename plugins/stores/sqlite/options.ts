import type { AggregationRuleOption, SchemaRuleOption } from '../whisper/options.js';

export interface SqliteStoreOptions {
  /** the database file (created with its directory when missing) */
  path: string;
  /** carbon storage-schemas.conf read as is (after the inline `schemas`); '' for none */
  schemasFile: string;
  /** carbon storage-aggregation.conf read as is (after the inline `aggregation`); '' for none */
  aggregationFile: string;
  /** inline retention rules, first match wins; carbon's fallback 60s:7d applies after them */
  schemas: SchemaRuleOption[];
  /** inline aggregation rules, first match wins; whisper's fallback (average, 0.5) after them */
  aggregation: AggregationRuleOption[];
  /** points accepted but not yet committed, at most; beyond it new points are dropped and counted */
  queueMaxPoints: number;
  /** percentage of queueMaxPoints at which the store signals pressure (stream inputs pause) */
  pressureHighPercent: number;
  /** percentage at which pressure is released */
  pressureLowPercent: number;
  /** accepted points are committed in one transaction at least this often */
  commitIntervalMs: number;
  /** SQLite's synchronous pragma: 'normal' (WAL: a power loss may lose the last commits) or 'full' */
  synchronous: 'normal' | 'full';
  /** how often points older than their archive's retention are deleted (in small batches); 0 never */
  retentionSweepSecs: number;
}
