/**
 * What the aggregator holds between flushes, and the swap at flush time. Adding a sample and taking
 * a snapshot are both cheap and synchronous; turning a snapshot into points (flush.ts) is the
 * expensive part and runs in chunks, so the socket loop keeps reading during a big flush.
 */
import { SampleType, type SampleBatch } from '../../../core/index.js';
import type { IdleKind } from './options.js';
import type { IntervalData } from './interval-file.js';

export interface TimerCell {
  values: number[];
  /** Σ 1/rate: the sample-rate-corrected count */
  count: number;
}

/** A mutable number per key: updates and the reset at flush touch the cell, not the Map. */
export interface Cell {
  v: number;
}

/** One flush's data, detached from the live state. */
export interface Snapshot {
  readonly counterKeys: string[];
  readonly counterValues: number[];
  readonly timerKeys: string[];
  readonly timerCells: TimerCell[];
  readonly gaugeKeys: string[];
  readonly gaugeValues: number[];
  readonly setKeys: string[];
  readonly setSizes: number[];
}

export interface StateOptions {
  readonly prefixStats: string;
  readonly deleteIdle: readonly IdleKind[];
  readonly gaugeIdleFlushes: number;
  readonly maxNewKeysPerFlush: number;
  /** whether every series name a new key of this type flushes to is within the core's limit */
  readonly nameFits?: (type: SampleType, key: string) => boolean;
}

/** The three counters Etsy pre-creates and never deletes (they only reset to 0). */
export const INTERNAL_COUNTERS = ['bad_lines_seen', 'packets_received', 'metrics_received'] as const;

export class StatsdState {
  readonly counters = new Map<string, Cell>();
  readonly timers = new Map<string, TimerCell>();
  readonly gauges = new Map<string, Cell>();
  readonly sets = new Map<string, Set<string>>();
  /** idle flushes left per gauge; only kept when gauges are deleted when idle */
  private readonly gaugeTtl = new Map<string, number>();
  private readonly internalNames = new Map<string, string>();
  private readonly del: Readonly<Record<IdleKind, boolean>>;
  private newKeys = 0;
  /** samples refused by the cardinality cap since the last call to takeCapped() */
  private capped = 0;
  private tooLong = 0;
  /** Unix seconds of the last sample (Etsy's messages.last_msg_seen) */
  lastSampleAt = 0;
  samplesSeen = 0;

  constructor(private readonly o: StateOptions) {
    this.del = {
      counters: o.deleteIdle.includes('counters'),
      timers: o.deleteIdle.includes('timers'),
      gauges: o.deleteIdle.includes('gauges'),
      sets: o.deleteIdle.includes('sets'),
    };
    for (const c of INTERNAL_COUNTERS) {
      const name = `${o.prefixStats}.${c}`;
      this.internalNames.set(c, name);
      this.counters.set(name, { v: 0 });
    }
  }

  /** The core's `samples` batch: copy what we keep (the batch is reused after this call). */
  add(batch: SampleBatch): void {
    const { names, types, values, rates, members } = batch;
    for (let i = 0; i < batch.length; i++) {
      const type = types[i] as SampleType;
      const key = names[i]!;
      const v = values[i]!;
      switch (type) {
        case SampleType.Counter: {
          let c = this.counters.get(key);
          if (c === undefined) {
            if (!this.admit(type, key)) continue;
            c = { v: 0 };
            this.counters.set(key, c);
          }
          // `v * (1 / rate)`, not `v / rate`: the rounding Etsy gets
          c.v += v * (1 / rates[i]!);
          break;
        }
        case SampleType.Timer: {
          let t = this.timers.get(key);
          if (t === undefined) {
            if (!this.admit(type, key)) continue;
            t = { values: [], count: 0 };
            this.timers.set(key, t);
          }
          t.values.push(v);
          t.count += 1 / rates[i]!;
          break;
        }
        case SampleType.Gauge:
        case SampleType.GaugeDelta: {
          let g = this.gauges.get(key);
          if (g === undefined) {
            if (!this.admit(type, key)) continue;
            g = { v: 0 };
            this.gauges.set(key, g);
          }
          if (this.del.gauges) this.gaugeTtl.set(key, this.o.gaugeIdleFlushes);
          // Etsy: a sign means a delta only when the gauge already holds a truthy value
          g.v = type === SampleType.GaugeDelta && g.v ? g.v + v : v;
          break;
        }
        case SampleType.Set: {
          let s = this.sets.get(key);
          if (s === undefined) {
            if (!this.admit(type, key)) continue;
            s = new Set();
            this.sets.set(key, s);
          }
          s.add(members[i] ?? '0');
          break;
        }
        case SampleType.InputCounter: {
          const name = this.internalNames.get(key) ?? `${this.o.prefixStats}.${key}`;
          let c = this.counters.get(name);
          if (c === undefined) this.counters.set(name, (c = { v: 0 }));
          c.v += v;
          continue;
        }
        default:
          continue;
      }
      this.samplesSeen++;
    }
    if (batch.length > 0) this.lastSampleAt = batch.receivedAt;
  }

  private admit(type: SampleType, key: string): boolean {
    if (this.o.nameFits && !this.o.nameFits(type, key)) {
      // a series no store could take: a bad line, as a key over the limit is
      this.tooLong++;
      const name = this.internalNames.get('bad_lines_seen')!;
      let c = this.counters.get(name);
      if (c === undefined) this.counters.set(name, (c = { v: 0 }));
      c.v++;
      return false;
    }
    if (this.o.maxNewKeysPerFlush === 0 || this.newKeys < this.o.maxNewKeysPerFlush) {
      this.newKeys++;
      return true;
    }
    this.capped++;
    return false;
  }

  /** samples whose key would make a series name over the limit, since the last call */
  takeTooLong(): number {
    const n = this.tooLong;
    this.tooLong = 0;
    return n;
  }

  takeCapped(): number {
    const c = this.capped;
    this.capped = 0;
    return c;
  }

  /** The live state as plain data (before the snapshot that empties it), for a restart to resume. */
  intervalData(): IntervalData {
    return {
      counters: [...this.counters].map(([k, c]) => [k, c.v]),
      timers: [...this.timers].map(([k, t]) => [k, [...t.values], t.count]),
      gauges: [...this.gauges].map(([k, g]) => [k, g.v]),
      sets: [...this.sets].map(([k, s]) => [k, [...s]]),
    };
  }

  /**
   * Adds an interval a stop left to the live state: counts add up, timer values and set members
   * join, gauges take the value unless one arrived since. Keys come in whatever the cap on new
   * keys says: they were admitted once already.
   */
  resume(d: IntervalData): void {
    for (const [k, v] of d.counters) {
      const c = this.counters.get(k);
      if (c) c.v += v;
      else this.counters.set(k, { v });
    }
    for (const [k, values, count] of d.timers) {
      const t = this.timers.get(k);
      if (t) {
        for (const v of values) t.values.push(v);
        t.count += count;
      } else this.timers.set(k, { values: [...values], count });
    }
    for (const [k, v] of d.gauges) {
      if (this.gauges.has(k)) continue;
      this.gauges.set(k, { v });
      if (this.del.gauges) this.gaugeTtl.set(k, this.o.gaugeIdleFlushes);
    }
    for (const [k, members] of d.sets) {
      const s = this.sets.get(k) ?? new Set<string>();
      for (const m of members) s.add(m);
      this.sets.set(k, s);
    }
  }

  /**
   * Detaches this interval's data and resets the live state as Etsy does after a flush: counters
   * to 0 (or deleted, except the internal ones), timers and sets emptied (or deleted), gauges kept
   * (or deleted after gaugeIdleFlushes idle flushes).
   */
  snapshot(): Snapshot {
    const s: Snapshot = {
      counterKeys: [],
      counterValues: [],
      timerKeys: [],
      timerCells: [],
      gaugeKeys: [],
      gaugeValues: [],
      setKeys: [],
      setSizes: [],
    };
    for (const [k, c] of this.counters) {
      s.counterKeys.push(k);
      s.counterValues.push(c.v);
      c.v = 0;
      // Etsy keeps any key *containing* one of the internal names (a substring test), so do we
      if (this.del.counters && !isInternalLike(k)) this.counters.delete(k);
    }
    for (const [k, cell] of this.timers) {
      s.timerKeys.push(k);
      s.timerCells.push({ values: cell.values, count: cell.count });
      if (this.del.timers) this.timers.delete(k);
      else if (cell.values.length > 0 || cell.count !== 0) {
        cell.values = [];
        cell.count = 0;
      }
    }
    for (const [k, g] of this.gauges) {
      s.gaugeKeys.push(k);
      s.gaugeValues.push(g.v);
    }
    if (this.del.gauges) {
      for (const [k, ttl] of this.gaugeTtl) {
        if (ttl - 1 < 1) {
          this.gauges.delete(k);
          this.gaugeTtl.delete(k);
        } else this.gaugeTtl.set(k, ttl - 1);
      }
    }
    for (const [k, set] of this.sets) {
      s.setKeys.push(k);
      s.setSizes.push(set.size);
      if (this.del.sets) this.sets.delete(k);
      else set.clear();
    }
    this.newKeys = 0;
    return s;
  }
}

function isInternalLike(key: string): boolean {
  return key.includes('packets_received') || key.includes('metrics_received') || key.includes('bad_lines_seen');
}
