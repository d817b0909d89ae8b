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

/** new keys checked per flush, at most: a first flush of 100,000 keys must not block the loop */
const CHECKS_PER_FLUSH = 2000;
/** keys remembered as checked, at most; beyond it new keys are no longer checked (said once) */
const MAX_CHECKED = 200_000;

/**
 * The start-up check sees one example name per metric type; a storage rule that matches some
 * keys only (`^stats\.jupyterhub\.` at 60 s, say) is invisible to it. This one checks every key
 * the first time a flush carries it, with the series name its type writes, and reports each
 * series a store keeps at a coarser step than the flush (a limited warning, and a gauge).
 */
export class KeyRetentionWatch {
  private readonly stores: Array<[string, Required<Pick<QueryStore, 'specFor'>>]> = [];
  private readonly checked = new Set<string>();
  private full = false;
  /** series (per store) found at a coarser finest step than the flush */
  mismatched = 0;

  constructor(
    private readonly namer: GraphiteNamer,
    private readonly flushSecs: number,
    stores: ReadonlyMap<string, QueryStore>,
    private readonly report: (m: RetentionMismatch) => void,
    private readonly onFull: () => void,
    /** what the start-up check already warned about: counted, not warned again */
    private readonly known: readonly RetentionMismatch[] = [],
  ) {
    for (const [id, s] of stores) if (s.specFor) this.stores.push([id, s as Required<Pick<QueryStore, 'specFor'>>]);
  }

  check(keys: { readonly counterKeys: readonly string[]; readonly timerKeys: readonly string[]; readonly gaugeKeys: readonly string[]; readonly setKeys: readonly string[] }): void {
    if (this.stores.length === 0 || this.full) return;
    let budget = CHECKS_PER_FLUSH;
    const n = this.namer;
    budget = this.checkKind(keys.counterKeys, 'c', (k) => n.counterRate(k), budget);
    budget = this.checkKind(keys.timerKeys, 't', (k) => n.timerStat(k, 'mean'), budget);
    budget = this.checkKind(keys.gaugeKeys, 'g', (k) => n.gaugeName(k), budget);
    this.checkKind(keys.setKeys, 's', (k) => n.setCount(k), budget);
  }

  private checkKind(keys: readonly string[], kind: string, nameOf: (key: string) => string, budget: number): number {
    for (let i = 0; i < keys.length && budget > 0; i++) {
      const memo = `${kind}${keys[i]!}`;
      if (this.checked.has(memo)) continue;
      if (this.checked.size >= MAX_CHECKED) {
        this.full = true;
        this.onFull();
        return 0;
      }
      this.checked.add(memo);
      budget--;
      const name = nameOf(keys[i]!);
      for (const [store, s] of this.stores) {
        const step = s.specFor(name).archives[0]?.[0];
        if (step === undefined || step <= this.flushSecs) continue;
        this.mismatched++;
        if (!this.known.some((k) => k.store === store && k.stepSecs === step)) this.report({ store, stepSecs: step, names: [name] });
      }
    }
    return budget;
  }
}
