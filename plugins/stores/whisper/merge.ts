import { aggregate, floorMod, type AggregationMethod } from '../../shared/whisper-format/index.js';

/**
 * Merges unpersisted points into fetched values as graphite-web merges carbon's cache
 * (readers/utils.py merge_with_cache): one value per timestamp (last received wins), then the
 * last point per finest-archive interval (what whisper will store), then, when the fetched step
 * is coarser, the points of each fetched slot consolidated with the file's method. A cached
 * value replaces the value read from disk for its slot.
 *
 * Divergence: graphite-web raises for absmax/absmin here; we use whisper's own aggregation.
 */
export function mergeCached(
  cached: ReadonlyArray<readonly [number, number]>,
  start: number,
  step: number,
  values: Float64Array,
  method: AggregationMethod,
  rawStep: number,
): void {
  if (cached.length === 0) return;
  const byTs = new Map<number, number>();
  for (const [t, v] of cached) byTs.set(t, v);
  const sorted = [...byTs.entries()].sort((a, b) => a[0] - b[0]);
  const byRaw = new Map<number, number>();
  for (const [t, v] of sorted) byRaw.set(rawStep > 1 ? t - floorMod(t, rawStep) : t, v);
  let merged: Array<[number, number]>;
  if (step !== rawStep) {
    const groups = new Map<number, number[]>();
    for (const [t, v] of byRaw) {
      const i = t - floorMod(t, step);
      const g = groups.get(i);
      if (g) g.push(v);
      else groups.set(i, [v]);
    }
    // graphite-web's consolidate() sees only the cached points, so avg_zero is their average
    merged = [...groups].map(([i, vs]) => [i, aggregate(method === 'avg_zero' ? 'average' : method, vs, vs)]);
  } else {
    merged = [...byRaw];
  }
  for (const [t, v] of merged) {
    const i = Math.floor((t - start) / step);
    if (i >= 0 && i < values.length) values[i] = v;
  }
}
