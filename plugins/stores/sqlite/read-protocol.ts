/**
 * Messages between the SQLite store and its read threads (read-worker.ts). A read is one range
 * of one archive of one series, answered as the fetch's whole grid: `length` values from `start`,
 * `step` apart, NaN where the table has no row.
 */
export interface RangeRead {
  /** the series' row id */
  readonly sid: number;
  /** the archive's index, finest first */
  readonly archive: number;
  readonly step: number;
  /** slots in the archive's ring */
  readonly points: number;
  readonly start: number;
  readonly length: number;
}

/** `stop`: set by the main thread when the caller gives up (the reads not done yet fail) */
export type ToReader = { type: 'read'; id: number; reads: RangeRead[]; stop?: Int32Array } | { type: 'close'; id: number };

export type FromReader =
  /** `values`: each read's grid, undefined for the reads in `failures` */
  | { type: 'read'; id: number; values: Array<Float64Array | undefined>; failures: Array<{ i: number; message: string }> }
  | { type: 'closed'; id: number };
