/**
 * A batch of Carbon datapoints in columnar form: point i is (names[i], values[i], times[i]).
 *
 * Invariants every producer keeps and every consumer may rely on:
 * - only indexes below `length` are meaningful (arrays may be longer: producers reuse them);
 * - `names[i]` is a validated, canonical series name (tags sorted, see metric-name.ts);
 * - `times[i]` is Unix seconds (may carry a fraction; stores truncate it to their step);
 * - `ids`, when present, holds for each point the SeriesIds id of `names[i]`, or -1 where the
 *   producer did not look it up: an index a store may use instead of hashing the name;
 * - a batch is read-only once emitted and only valid during the listener's call:
 *   a listener that keeps anything past its own call copies it.
 */
export interface PointBatch {
  readonly length: number;
  readonly names: readonly string[];
  readonly values: Float64Array;
  readonly times: Float64Array;
  readonly ids?: Int32Array;
}

/** Build a standalone batch (copies nothing; for tests, flushes and small producers). */
export function pointBatch(points: ReadonlyArray<readonly [name: string, value: number, time: number]>): PointBatch {
  const n = points.length;
  const names = new Array<string>(n);
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    names[i] = p[0];
    values[i] = p[1];
    times[i] = p[2];
  }
  return { length: n, names, values, times };
}

/** Copies the first `length` points of a batch into a new, independent batch. */
export function copyPointBatch(batch: PointBatch): PointBatch {
  const n = batch.length;
  return {
    length: n,
    names: batch.names.slice(0, n),
    values: batch.values.slice(0, n),
    times: batch.times.slice(0, n),
    ...(batch.ids ? { ids: batch.ids.slice(0, n) } : {}),
  };
}

/** Iterates a batch as tuples; convenient in tests, too slow for hot paths. */
export function* pointsOf(batch: PointBatch): Generator<[string, number, number]> {
  for (let i = 0; i < batch.length; i++) yield [batch.names[i]!, batch.values[i]!, batch.times[i]!];
}
