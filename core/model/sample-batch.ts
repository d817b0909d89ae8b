/**
 * Raw metric samples before aggregation (counters, timers, gauges and sets; any input may produce them:
 * a log tail turns log lines into samples so the aggregator does the maths).
 * Columnar like PointBatch: sample i is (names[i], types[i], values[i], rates[i], members[i]).
 */
export const SampleType = {
  /** adds value / rate to a counter */
  Counter: 0,
  /** one timing observation; count is corrected by 1 / rate */
  Timer: 1,
  /** sets the gauge to value */
  Gauge: 2,
  /** adds value (signed) to the gauge; producers decide when a sign means a delta */
  GaugeDelta: 3,
  /** adds members[i] to a distinct-count set */
  Set: 4,
  /**
   * A count about the producer itself (packets received, lines received, bad lines): added like
   * a counter under the aggregator's own prefix for its internal metrics, rate ignored.
   * Aggregators that do not know it skip it.
   */
  InputCounter: 5,
} as const;
export type SampleType = (typeof SampleType)[keyof typeof SampleType];

export interface SampleBatch {
  readonly length: number;
  /** sanitised keys; may carry Graphite tags (`name;k=v`) */
  readonly names: readonly string[];
  readonly types: Uint8Array;
  readonly values: Float64Array;
  /** sample rate in (0, 1]; 1 when the sender gave none */
  readonly rates: Float64Array;
  /** set members (only meaningful where types[i] is Set) */
  readonly members: readonly (string | undefined)[];
  /** Unix seconds at which the batch was received */
  readonly receivedAt: number;
}
