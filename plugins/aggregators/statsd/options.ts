/** A histogram rule (Etsy's `histogram` entries): the first rule whose `metric` is a substring of the key wins. */
export interface HistogramRule {
  /** substring of the timer key; '' matches every timer */
  metric: string;
  /**
   * ascending upper bounds (exclusive); 'inf' is the catch-all bin. Numeric strings (`"10"`, as an
   * Etsy config.js may hold them) count as numbers and keep their text in the bin's name, as in Etsy.
   */
  bins: Array<number | string>;
}

export type IdleKind = 'counters' | 'timers' | 'gauges' | 'sets';

export interface StatsdAggregatorOptions {
  /** flush period; flushes happen on wall-clock multiples of it (Etsy's flushInterval) */
  flushIntervalMs: number;
  /** percentiles per timer; negative = top (Etsy's percentThreshold) */
  percentThresholds: number[];
  /** per-timer histogram bins (Etsy's histogram) */
  histograms: HistogramRule[];
  /** timer sub-metrics to emit; empty = all (Etsy's calculatedTimerMetrics; percentiles as `<name>_percent`) */
  calculatedTimerMetrics: string[];
  /** which idle keys are deleted after a flush instead of re-sent as 0 (Etsy's delete* / deleteIdleStats) */
  deleteIdle: IdleKind[];
  /** flushes a gauge may stay idle before it is deleted, when gauges are in deleteIdle (Etsy's gaugesMaxTTL) */
  gaugeIdleFlushes: number;
  /** 'legacy': stats., stats_counts., stats.timers. (Etsy's legacyNamespace true); 'prefixed': globalPrefix/prefix* */
  namespace: 'legacy' | 'prefixed';
  globalPrefix: string;
  prefixCounter: string;
  prefixTimer: string;
  prefixGauge: string;
  prefixSet: string;
  /** node appended after the metric name and before any tags; '' = none */
  globalSuffix: string;
  /** first node of the aggregator's own metrics (Etsy's prefixStats) */
  prefixStats: string;
  /** 'rate_and_count': both (Etsy's flush_counts true); 'rate': the rate only */
  counterOutputs: 'rate_and_count' | 'rate';
  /** new keys accepted per flush interval; beyond it their samples are dropped and counted; 0 = no cap */
  maxNewKeysPerFlush: number;
  /** where the read-only management routes are mounted; '' = not mounted */
  httpPath: string;
  /** where a stop leaves the interval it flushed, for a restart within that interval to add to; '' = none */
  stateFile: string;
}
