/**
 * Turns one snapshot into the points Etsy's graphite backend would send, in the same order
 * (counters, timers, gauges, sets, numStats, processing_time). A generator: it yields every
 * `chunkKeys` keys so the caller can let the event loop read sockets between chunks; tests drain
 * it in one go.
 */
import { counterRate, binsFor, timerStats, type TimerConfig } from './metrics.js';
import type { GraphiteNamer } from './naming.js';
import type { CompiledHistogramRule } from './metrics.js';
import type { Snapshot } from './state.js';

export type PointSink = (name: string, value: number) => void;

export interface FlushConfig extends TimerConfig {
  readonly namer: GraphiteNamer;
  readonly histograms: readonly CompiledHistogramRule[];
  readonly flushCounts: boolean;
  /** keys processed between yields */
  readonly chunkKeys: number;
}

export interface FlushResult {
  numStats: number;
  points: number;
  /** wall ms from first to last point, yields included (Etsy's processing_time covers its maths only) */
  processingMs: number;
}

export function* flushPoints(s: Snapshot, cfg: FlushConfig, sink: PointSink): Generator<void, FlushResult> {
  const started = performance.now();
  let points = 0;
  const emit: PointSink = (name, value) => {
    points++;
    sink(name, value);
  };
  const { namer } = cfg;
  let done = 0;

  for (let i = 0; i < s.counterKeys.length; i++) {
    const key = s.counterKeys[i]!;
    const v = s.counterValues[i]!;
    emit(namer.counterRate(key), counterRate(v, cfg.intervalSecs));
    if (cfg.flushCounts) emit(namer.counterCountName(key), v);
    if (++done % cfg.chunkKeys === 0) yield;
  }

  for (let i = 0; i < s.timerKeys.length; i++) {
    const key = s.timerKeys[i]!;
    const cell = s.timerCells[i]!;
    const sorted = Float64Array.from(cell.values).sort();
    const nameOf = namer.timerNames(key);
    timerStats(sorted, cell.count, cfg, cfg.histograms.length > 0 ? binsFor(key, cfg.histograms) : undefined, (stat, value) => emit(nameOf(stat), value));
    if (++done % cfg.chunkKeys === 0) yield;
  }

  for (let i = 0; i < s.gaugeKeys.length; i++) {
    emit(namer.gaugeName(s.gaugeKeys[i]!), s.gaugeValues[i]!);
    if (++done % cfg.chunkKeys === 0) yield;
  }

  for (let i = 0; i < s.setKeys.length; i++) {
    emit(namer.setCount(s.setKeys[i]!), s.setSizes[i]!);
    if (++done % cfg.chunkKeys === 0) yield;
  }

  const numStats = s.counterKeys.length + s.timerKeys.length + s.gaugeKeys.length + s.setKeys.length;
  emit(namer.numStats(), numStats);
  const processingMs = Math.round(performance.now() - started);
  emit(namer.statsdMetric('processing_time'), processingMs);
  return { numStats, points, processingMs };
}

/** Runs a flush to completion synchronously (tests, and the final flush on stop). */
export function flushAll(s: Snapshot, cfg: FlushConfig, sink: PointSink): FlushResult {
  const it = flushPoints(s, cfg, sink);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
