import type { JSONSchemaType } from 'ajv';
import { AGGREGATION_METHODS } from '../../shared/whisper-format/header.js';
import type { WhisperStoreOptions } from './options.js';

export const DEFAULT_SCHEMAS = [{ name: 'default', pattern: '.*', retentions: '10s:6h,1m:7d,10m:5y' }];
/**
 * StatsD-friendly defaults: StatsD's own recommended aggregation rules (statsd docs/graphite.md),
 * and one more ahead of them: a set's `.count` is how many distinct members one flush saw, which
 * adding up on roll-up counts the same users again in every flush (20 users read as 100 in the
 * 1-minute archive); the largest is the closest a roll-up can get.
 */
export const DEFAULT_AGGREGATION = [
  { name: 'min', pattern: '\\.lower$', xFilesFactor: 0.1, aggregationMethod: 'min' as const },
  { name: 'max', pattern: '\\.upper(_\\d+)?$', xFilesFactor: 0.1, aggregationMethod: 'max' as const },
  { name: 'sum', pattern: '\\.sum$', xFilesFactor: 0, aggregationMethod: 'sum' as const },
  { name: 'set_count', pattern: '^stats\\.sets\\..*\\.count$', xFilesFactor: 0, aggregationMethod: 'max' as const },
  { name: 'count', pattern: '\\.count$', xFilesFactor: 0, aggregationMethod: 'sum' as const },
  { name: 'count_legacy', pattern: '^stats_counts\\.', xFilesFactor: 0, aggregationMethod: 'sum' as const },
  { name: 'default_average', pattern: '.*', xFilesFactor: 0.3, aggregationMethod: 'average' as const },
];

export const schema: JSONSchemaType<WhisperStoreOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    dataDir: { type: 'string', minLength: 1, default: './data', description: 'root of the Whisper tree (a.b.c → <dataDir>/a/b/c.wsp)' },
    schemasFile: { type: 'string', default: '', description: "carbon storage-schemas.conf read as is, after the inline rules; '' for none" },
    aggregationFile: { type: 'string', default: '', description: "carbon storage-aggregation.conf read as is, after the inline rules; '' for none" },
    schemas: {
      type: 'array',
      default: DEFAULT_SCHEMAS,
      description: 'inline retention rules (first match wins; carbon fallback 60s:7d after them)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pattern', 'retentions'],
        properties: {
          name: { type: 'string', default: 'inline', description: 'label for logs' },
          pattern: { type: 'string', description: 'regex searched (unanchored) in the series name' },
          retentions: { type: 'string', description: 'carbon retention list, e.g. 10s:6h,1m:7d,10m:5y' },
        },
      },
    },
    aggregation: {
      type: 'array',
      default: DEFAULT_AGGREGATION,
      description: 'inline aggregation rules (first match wins; average with xFilesFactor 0.5 after them)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pattern'],
        properties: {
          name: { type: 'string', default: 'inline', description: 'label for logs' },
          pattern: { type: 'string', description: 'regex searched (unanchored) in the series name' },
          xFilesFactor: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'fraction of known points needed to propagate' },
          aggregationMethod: { type: 'string', enum: [...AGGREGATION_METHODS], default: 'average', description: 'how lower archives aggregate' },
        },
      },
    },
    allocation: { type: 'string', enum: ['sparse', 'zero'], default: 'sparse', description: 'new files are sparse, or zero-filled as whisper does by default' },
    cacheMaxPoints: { type: 'integer', minimum: 1000, default: 20_000_000, description: 'write-back cache budget in points (about 40 bytes each); beyond it points are dropped and counted' },
    pressureHighPercent: { type: 'integer', minimum: 1, maximum: 100, default: 80, description: 'cache fill (% of cacheMaxPoints) at which stream inputs are paused' },
    pressureLowPercent: { type: 'integer', minimum: 0, maximum: 99, default: 60, description: 'cache fill at which stream inputs resume' },
    maxUpdatesPerSecond: { type: 'number', minimum: 0, default: 0, description: 'file updates per second (fractions allowed, as in carbon: 0.5 is one update every 2 s); 0 unlimited' },
    maxCreatesPerMinute: { type: 'number', minimum: 0, default: 0, description: 'new files per minute (fractions allowed, as in carbon); 0 unlimited; excess series wait in the cache' },
    writeCoalesceMs: { type: 'integer', minimum: 0, maximum: 60000, default: 1000, description: 'while points keep arriving, they wait up to this long to be written together; 0 writes continuously' },
    // ajv's JSONSchemaType cannot express an integer-or-keyword union: typed by hand
    persistThreads: {
      oneOf: [{ type: 'integer', minimum: 1, maximum: 16 }, { type: 'string', const: 'auto' }],
      default: 'auto',
      description: "worker threads writing files (off the event loop), series sharded over them; 'auto': one per core beyond the first, at most 2",
    } as unknown as JSONSchemaType<WhisperStoreOptions>['properties']['persistThreads'],
    durability: { type: 'string', enum: ['wal', 'none'], default: 'wal', description: 'write-ahead log replayed after a crash, or memory only' },
    walFlushIntervalMs: { type: 'integer', minimum: 10, maximum: 60000, default: 200, description: 'WAL hand-off to the OS interval: what a kill -9 can lose' },
    walSyncIntervalMs: { type: 'integer', minimum: 10, maximum: 600000, default: 1000, description: 'WAL fsync interval: what a power loss can lose' },
    walSegmentSecs: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'WAL segment length; persisted segments are deleted' },
    walDir: { type: 'string', default: '', description: "WAL directory; '' means <dataDir>/.carbonado-wal" },
  },
};
