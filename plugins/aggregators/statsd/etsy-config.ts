/**
 * Etsy statsd's config keys → carbonado options (the table in README.md, as code). Used by the
 * golden tests, and by operators who migrate a config.js by hand or script.
 */
import type { StatsdParseOptions } from '../../shared/statsd-line/index.js';
import type { HistogramRule, IdleKind, StatsdAggregatorOptions } from './options.js';

/** The subset of Etsy's config.js that changes what is flushed. */
export interface EtsyStatsdConfig {
  flushInterval?: number;
  percentThreshold?: number | number[];
  histogram?: HistogramRule[];
  calculatedTimerMetrics?: string[];
  deleteIdleStats?: boolean;
  deleteCounters?: boolean;
  deleteTimers?: boolean;
  deleteGauges?: boolean;
  deleteSets?: boolean;
  gaugesMaxTTL?: number;
  prefixStats?: string;
  flush_counts?: boolean;
  keyNameSanitize?: boolean;
  graphite?: {
    legacyNamespace?: boolean;
    globalPrefix?: string;
    prefixCounter?: string;
    prefixTimer?: string;
    prefixGauge?: string;
    prefixSet?: string;
    globalSuffix?: string;
  };
}

export function fromEtsyConfig(c: EtsyStatsdConfig): { aggregator: Partial<StatsdAggregatorOptions>; input: Partial<StatsdParseOptions> } {
  const a: Partial<StatsdAggregatorOptions> = {};
  if (c.flushInterval !== undefined) a.flushIntervalMs = Number(c.flushInterval);
  if (c.percentThreshold !== undefined) a.percentThresholds = Array.isArray(c.percentThreshold) ? c.percentThreshold : [c.percentThreshold];
  if (c.histogram !== undefined) a.histograms = c.histogram;
  if (c.calculatedTimerMetrics !== undefined) a.calculatedTimerMetrics = c.calculatedTimerMetrics;
  // deleteIdleStats turns every delete* on unless that one is set explicitly
  const all = c.deleteIdleStats === true;
  const del: IdleKind[] = [];
  if (c.deleteCounters ?? all) del.push('counters');
  if (c.deleteTimers ?? all) del.push('timers');
  if (c.deleteGauges ?? all) del.push('gauges');
  if (c.deleteSets ?? all) del.push('sets');
  if (del.length > 0) a.deleteIdle = del;
  if (c.gaugesMaxTTL !== undefined) a.gaugeIdleFlushes = Number.isInteger(c.gaugesMaxTTL) && c.gaugesMaxTTL > 1 ? c.gaugesMaxTTL : 1;
  if (c.prefixStats !== undefined) a.prefixStats = c.prefixStats;
  if (c.flush_counts === false) a.counterOutputs = 'rate';
  const g = c.graphite ?? {};
  if (g.legacyNamespace === false) a.namespace = 'prefixed';
  if (g.globalPrefix !== undefined) a.globalPrefix = g.globalPrefix;
  if (g.prefixCounter !== undefined) a.prefixCounter = g.prefixCounter;
  if (g.prefixTimer !== undefined) a.prefixTimer = g.prefixTimer;
  if (g.prefixGauge !== undefined) a.prefixGauge = g.prefixGauge;
  if (g.prefixSet !== undefined) a.prefixSet = g.prefixSet;
  if (g.globalSuffix !== undefined) a.globalSuffix = g.globalSuffix;
  const input: Partial<StatsdParseOptions> = c.keyNameSanitize === false ? { keySanitize: 'metric_only' } : {};
  return { aggregator: a, input };
}
