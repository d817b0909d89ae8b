import type { JSONSchemaType } from 'ajv';
import type { StatsdAggregatorOptions } from './options.js';

// Typed loosely only where ajv's JSONSchemaType cannot express a union item (`number | 'inf'`).
const histogramRule = {
  type: 'object',
  additionalProperties: false,
  required: ['metric', 'bins'],
  properties: {
    metric: { type: 'string', default: '', description: "substring of the timer key; '' matches every timer" },
    bins: {
      type: 'array',
      items: { anyOf: [{ type: 'number' }, { type: 'string', pattern: '^(inf|[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?)$' }] },
      default: [],
      description: "ascending upper bounds (numbers or numeric strings); 'inf' is the catch-all bin",
    },
  },
} as unknown as JSONSchemaType<StatsdAggregatorOptions['histograms'][number]>;

export const statsdAggregatorSchema: JSONSchemaType<StatsdAggregatorOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    flushIntervalMs: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 10000, description: 'flush period; flushes land on wall-clock multiples of it (Etsy flushInterval)' },
    percentThresholds: {
      type: 'array',
      items: { type: 'number', minimum: -100, maximum: 100 },
      default: [90],
      description: 'timer percentiles; negative = top percentiles (Etsy percentThreshold)',
    },
    histograms: { type: 'array', items: histogramRule, default: [], description: 'timer histogram rules, first matching substring wins (Etsy histogram)' },
    calculatedTimerMetrics: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'timer sub-metrics to emit, empty = all; percentiles as <name>_percent (Etsy calculatedTimerMetrics)',
    },
    deleteIdle: {
      type: 'array',
      items: { type: 'string', enum: ['counters', 'timers', 'gauges', 'sets'] },
      uniqueItems: true,
      default: [],
      description: 'kinds whose idle keys are deleted after a flush instead of re-sent (Etsy deleteIdleStats / delete*)',
    },
    gaugeIdleFlushes: { type: 'integer', minimum: 1, default: 1, description: 'idle flushes before a gauge is deleted, when deleteIdle has gauges (Etsy gaugesMaxTTL)' },
    namespace: { type: 'string', enum: ['legacy', 'prefixed'], default: 'legacy', description: "'legacy' = stats./stats_counts. names (Etsy legacyNamespace true); 'prefixed' uses the prefix options" },
    globalPrefix: { type: 'string', pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: 'stats', description: 'first node(s) in the prefixed namespace' },
    prefixCounter: { type: 'string', pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: 'counters', description: 'counter node in the prefixed namespace' },
    prefixTimer: { type: 'string', pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: 'timers', description: 'timer node in the prefixed namespace' },
    prefixGauge: { type: 'string', pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: 'gauges', description: 'gauge node in the prefixed namespace' },
    prefixSet: { type: 'string', pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: 'sets', description: 'set node in the prefixed namespace' },
    globalSuffix: { type: 'string', pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: '', description: "node(s) appended after every name, before tags (a host name may have dots); '' = none" },
    prefixStats: { type: 'string', pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', default: 'statsd', description: "node(s) of the aggregator's own metrics (Etsy prefixStats)" },
    counterOutputs: { type: 'string', enum: ['rate_and_count', 'rate'], default: 'rate_and_count', description: "'rate' drops the raw count series (Etsy flush_counts false)" },
    maxNewKeysPerFlush: { type: 'integer', minimum: 0, default: 0, description: 'new keys accepted per interval; more are dropped and counted; 0 = no cap' },
    httpPath: { type: 'string', pattern: '^(/[A-Za-z0-9_-]+)*$', default: '/statsd', description: "where the read-only management routes are mounted; '' = none" },
    stateFile: {
      type: 'string',
      default: '',
      description: "file where a stop leaves the interval it flushed, so that a restart within the same interval adds to it instead of overwriting its point; '' = none",
    },
  },
};
