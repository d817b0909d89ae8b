import type { QueryStore } from '../../../core/index.js';
import type { GraphiteNamer } from './naming.js';

export interface RetentionMismatch {
  readonly store: string;
  /** finest seconds per point the store gives these names */
  readonly stepSecs: number;
  readonly names: readonly string[];
}

/**
 * Stores whose finest retention step for StatsD's series is longer than the flush interval.
 * Every flush writes one point per series; two flushes that land in one slot overwrite each
 * other (whisper keeps the last write, as carbon does), so with a 1 s flush and a 10 s finest
 * step 9 flushes in 10 are lost without a trace. Etsy statsd has the same trap and only warns in
 * its docs; carbonado can see both settings, so it says so at start-up.
 */
export function retentionMismatches(namer: GraphiteNamer, flushSecs: number, stores: ReadonlyMap<string, QueryStore>): RetentionMismatch[] {
  const key = 'example';
  const names = [namer.counterRate(key), namer.counterCountName(key), namer.timerStat(key, 'mean'), namer.gaugeName(key), namer.setCount(key)];
  const out: RetentionMismatch[] = [];
  for (const [id, store] of stores) {
    if (!store.specFor) continue;
    const byStep = new Map<number, string[]>();
    for (const name of new Set(names)) {
      const step = store.specFor(name).archives[0]?.[0];
      if (step === undefined || step <= flushSecs) continue;
      const list = byStep.get(step) ?? [];
      list.push(name);
      byStep.set(step, list);
    }
    for (const [stepSecs, list] of byStep) out.push({ store: id, stepSecs, names: list });
  }
  return out;
}

export function describeMismatch(m: RetentionMismatch, flushSecs: number): string {
  const lost = Math.ceil(m.stepSecs / flushSecs) - 1;
  return (
    `${m.store} keeps ${m.names.join(', ')} at ${m.stepSecs} s per point but StatsD flushes every ${flushSecs} s: ` +
    `flushes that share a slot overwrite each other (about ${lost} of every ${lost + 1} lost, as with Etsy statsd and carbon). ` +
    `Set flushIntervalMs to ${m.stepSecs * 1000}, or give these series a finest retention of ${flushSecs}s`
  );
}
