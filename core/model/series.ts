/**
 * What a store answers on the query side: one series over a regular grid of timestamps.
 * `values[i]` is the value of the slot starting at `start + i * step`; NaN means no data (null).
 * `end` is exclusive, as in the classic round-robin file format: values.length === (end - start) / step.
 */
export interface SeriesData {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly values: Float64Array;
  /** aggregation method of the archive the values came from (e.g. "average", "sum"), when known */
  readonly consolidation?: string;
  /** xFilesFactor of the series, when known */
  readonly xFilesFactor?: number;
}

/** One node of a /metrics/find answer. */
export interface FindNode {
  /** full dotted path of the node, e.g. "servers.web1.cpu" */
  readonly path: string;
  /** true for a series (leaf), false for a branch; a path can be both, which gives two nodes */
  readonly isLeaf: boolean;
}
