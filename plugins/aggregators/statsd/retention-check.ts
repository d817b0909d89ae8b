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

/** new keys checked per flush, at most: a first flush of 100,000 keys must not cost a burst of reads */
const CHECKS_PER_FLUSH = 2000;
/** keys remembered as checked, at most; beyond it new keys are no longer checked (said once) */
const MAX_CHECKED = 200_000;

interface FlushedKeys {
  readonly counterKeys: readonly string[];
  readonly timerKeys: readonly string[];
  readonly gaugeKeys: readonly string[];
  readonly setKeys: readonly string[];
}

/**
 * The start-up check sees one example name per metric type and the stores' rules; it misses a
 * rule that matches some keys only (`^stats\.jupyterhub\.` at 60 s, say) and, above all, files
 * that already exist with another retention (a carbon data directory made under carbon's default
 * `60s:1d`, fed by 10 s flushes). This one asks each store, with a fetch of the last interval,
 * at what step it answers each key's series the first time a flush carries the key: whisper
 * answers from the file's own header, or from its rules while the file is not yet written.
 */
export class KeyRetentionWatch {
  /** keys already taken for a check, per type (separate sets: no string built per key and flush) */
  private readonly checked = { c: new Set<string>(), t: new Set<string>(), g: new Set<string>(), s: new Set<string>() };
  private checkedCount = 0;
  /** names taken and not yet asked, with the timestamp of the flush that wrote them */
  private readonly queue: Array<{ names: string[]; ts: number }> = [];
  private queued = 0;
  private full = false;
  /** series (per store) found at a coarser finest step than the flush */
  mismatched = 0;

  constructor(
    private readonly namer: GraphiteNamer,
    private readonly flushSecs: number,
    private readonly stores: ReadonlyMap<string, QueryStore>,
    private readonly report: (m: RetentionMismatch) => void,
    private readonly onFull: () => void,
    /** what the start-up check already warned about: counted, not warned again */
    private readonly known: readonly RetentionMismatch[] = [],
  ) {}

  /**
   * Takes the flush's keys not seen before (synchronously, at most CHECKS_PER_FLUSH, and only
   * while fewer than that wait to be asked: the rest are taken at a later flush).
   * `ts`: the flush's timestamp (Unix seconds); the series were written at it.
   */
  take(keys: FlushedKeys, ts: number): void {
    if (this.stores.size === 0 || this.full || this.queued >= CHECKS_PER_FLUSH) return;
    const n = this.namer;
    const names: string[] = [];
    const kinds: Array<[readonly string[], Set<string>, (k: string) => string]> = [
      [keys.counterKeys, this.checked.c, (k) => n.counterRate(k)],
      [keys.timerKeys, this.checked.t, (k) => n.timerStat(k, 'mean')],
      [keys.gaugeKeys, this.checked.g, (k) => n.gaugeName(k)],
      [keys.setKeys, this.checked.s, (k) => n.setCount(k)],
    ];
    for (const [list, seen, nameOf] of kinds) {
      for (let i = 0; i < list.length && names.length < CHECKS_PER_FLUSH; i++) {
        const key = list[i]!;
        if (seen.has(key)) continue;
        if (this.checkedCount >= MAX_CHECKED) {
          this.full = true;
          this.onFull();
          break;
        }
        seen.add(key);
        this.checkedCount++;
        names.push(nameOf(key));
      }
    }
    if (names.length === 0) return;
    this.queue.push({ names, ts });
    this.queued += names.length;
  }

  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Asks the stores about everything taken, one flush's names at a time. */
  async drain(): Promise<void> {
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      this.queued -= job.names.length;
      for (const [store, s] of this.stores) {
        const answered = await s.fetch(job.names, job.ts - this.flushSecs, job.ts);
        for (const d of answered) {
          if (!(d.step > this.flushSecs)) continue;
          this.mismatched++;
          if (!this.known.some((k) => k.store === store && k.stepSecs === d.step)) this.report({ store, stepSecs: d.step, names: [d.name] });
        }
      }
    }
  }
}
