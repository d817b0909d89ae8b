import Router from '@koa/router';
import { MAX_NAME_LENGTH, SampleType, type AggregatorContext, type AggregatorInstance, type SampleBatch } from '../../../core/index.js';
import { flushPoints, type FlushConfig, type FlushResult } from './flush.js';
import { binsFor, compileHistograms, percentName, timerStatWanted } from './metrics.js';
import { GraphiteNamer } from './naming.js';
import type { StatsdAggregatorOptions } from './options.js';
import { StatsdState, type Snapshot } from './state.js';
import { KeyRetentionWatch, describeMismatch, retentionMismatches } from './retention-check.js';
import { saveInterval, takeInterval, type IntervalData } from './interval-file.js';

/** Keys turned into points between two yields to the event loop during a flush. */
const CHUNK_KEYS = 2000;
/** Detached flushes that may wait to be emitted before the rest are emitted without yielding. */
const MAX_BACKLOG = 2;

/**
 * StatsD aggregation with Etsy's semantics. Flushes fire on wall-clock multiples of the interval
 * and carry that boundary as their timestamp, so consecutive flushes never share a whisper slot and
 * a late timer does not shift the series. A flush detaches the interval's data synchronously at the
 * boundary, then computes and emits points in chunks, yielding between them so UDP sockets keep
 * draining (Etsy's flush blocks its loop while the kernel buffer overflows: the main cause of its
 * packet loss).
 */
export class StatsdAggregator implements AggregatorInstance {
  private readonly state: StatsdState;
  private readonly cfg: FlushConfig;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** the boundary (ms) the pending timer is for */
  private nextAt = 0;
  private lastFlushTs = 0;
  private flushing: Promise<void> = Promise.resolve();
  private backlog = 0;
  private running = false;
  private readonly startedAt: number;
  private last: (FlushResult & { timestamp: number }) | undefined;
  private watch: KeyRetentionWatch | undefined;
  /** the retention check of new keys in progress (one at a time, off the flush chain) */
  private checking: Promise<void> | undefined;

  constructor(
    private readonly ctx: AggregatorContext,
    private readonly o: Readonly<StatsdAggregatorOptions>,
  ) {
    this.intervalMs = o.flushIntervalMs;
    this.state = new StatsdState({ ...o, nameFits: (type, key) => this.nameFits(type, key) });
    this.cfg = {
      namer: new GraphiteNamer(o),
      intervalSecs: o.flushIntervalMs / 1000,
      percentThresholds: o.percentThresholds,
      percentNames: o.percentThresholds.map(percentName),
      calculatedTimerMetrics: new Set(o.calculatedTimerMetrics),
      histograms: compileHistograms(o.histograms),
      flushCounts: o.counterOutputs === 'rate_and_count',
      chunkKeys: CHUNK_KEYS,
    };
    this.startedAt = ctx.now();
  }

  /**
   * Whether the longest series name a new key flushes to is within the core's limit: the inputs
   * check the key alone, and a prefix and a sub-metric (`stats.timers.<key>.sum_squares_99_9`) can
   * take a valid key past it, where the store would refuse that one series and keep the others.
   */
  private nameFits(type: SampleType, key: string): boolean {
    const { namer } = this.cfg;
    switch (type) {
      case SampleType.Counter:
        return namer.counterRate(key).length <= MAX_NAME_LENGTH && (!this.cfg.flushCounts || namer.counterCountName(key).length <= MAX_NAME_LENGTH);
      case SampleType.Timer: {
        let longest = 0;
        const consider = (stat: string): void => {
          if (stat.length > longest && timerStatWanted(stat, this.cfg.calculatedTimerMetrics)) longest = stat.length;
        };
        consider('sum_squares');
        for (const c of this.cfg.percentNames) consider(`sum_squares_${c}`);
        for (const b of binsFor(key, this.cfg.histograms) ?? []) consider(b.stat);
        return namer.timerNames(key)('x'.repeat(longest)).length <= MAX_NAME_LENGTH;
      }
      case SampleType.Gauge:
      case SampleType.GaugeDelta:
        return namer.gaugeName(key).length <= MAX_NAME_LENGTH;
      case SampleType.Set:
        return namer.setCount(key).length <= MAX_NAME_LENGTH;
      default:
        return true;
    }
  }

  add(batch: SampleBatch): void {
    this.state.add(batch);
  }

  async start(): Promise<void> {
    if (this.o.httpPath !== '') this.ctx.http.mount(this.routes(this.o.httpPath));
    // stores start first, so their rules are loaded by now
    const mismatches = retentionMismatches(this.cfg.namer, this.cfg.intervalSecs, this.ctx.stores);
    for (const m of mismatches) this.ctx.log.warn(describeMismatch(m, this.cfg.intervalSecs));
    this.ctx.stats.gauge('retention_mismatches', mismatches.length);
    this.watch = new KeyRetentionWatch(
      this.cfg.namer,
      this.cfg.intervalSecs,
      this.ctx.stores,
      (m) => this.ctx.log.limited('retention_mismatch', describeMismatch(m, this.cfg.intervalSecs)),
      () => this.ctx.log.info('over 200,000 StatsD keys checked against the stores\' retentions: new keys are no longer checked'),
      mismatches,
    );
    this.ctx.stats.gauge('retention_mismatched_series', 0);
    if (this.o.stateFile !== '') await this.resumeInterval(this.o.stateFile);
    this.running = true;
    this.schedule();
  }

  /** A restart within the interval a stop flushed adds to what it flushed (interval-file.ts). */
  private async resumeInterval(path: string): Promise<void> {
    let left;
    try {
      left = await takeInterval(path);
    } catch (err) {
      this.ctx.stats.addError('state_file');
      this.ctx.log.warn('cannot read the interval the last stop left; starting the interval afresh', { file: path, error: err as Error });
      return;
    }
    if (left === undefined) return;
    const boundary = this.boundaryAfter(this.ctx.now() * 1000) / 1000;
    if (left.boundary !== boundary || left.intervalMs !== this.intervalMs) {
      // a later interval: what the stop flushed stands on its own
      this.ctx.log.debug('the interval the last stop flushed is over', { file: path, boundary: left.boundary });
      return;
    }
    this.state.resume(left);
    this.ctx.stats.count('intervals_resumed');
    this.ctx.log.info('resumed the interval the last stop flushed: its point will cover the whole interval', { boundary, keys: left.counters.length + left.timers.length + left.gauges.length + left.sets.length });
  }

  /** Stops the timer, waits for a flush in progress, then flushes what is held (SIGTERM loses nothing). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // The partial interval belongs to the interval it falls in: stamp it with that boundary.
    const ts = this.nextAt > 0 ? this.nextAt / 1000 : this.boundaryAfter(this.ctx.now() * 1000) / 1000;
    let left: IntervalData | undefined;
    if (this.o.stateFile !== '') {
      this.ctx.drainInputs(); // as detach() does: what the inputs hold belongs to the interval
      left = this.state.intervalData();
    }
    await this.enqueue(this.detach(ts), false);
    this.ctx.points.flush();
    await this.checking;
    if (left !== undefined) {
      try {
        await saveInterval(this.o.stateFile, ts, this.intervalMs, left);
      } catch (err) {
        this.ctx.stats.addError('state_file');
        this.ctx.log.warn('cannot keep the interval this stop flushed: a restart within it will overwrite its point', { file: this.o.stateFile, error: err as Error });
      }
    }
  }

  stats(): Record<string, number> {
    return {
      counters: this.state.counters.size,
      timers: this.state.timers.size,
      gauges: this.state.gauges.size,
      sets: this.state.sets.size,
      last_flush_points: this.last?.points ?? 0,
      last_flush_ms: this.last?.processingMs ?? 0,
    };
  }

  private boundaryAfter(ms: number): number {
    return (Math.floor(ms / this.intervalMs) + 1) * this.intervalMs;
  }

  private schedule(): void {
    const now = this.ctx.now() * 1000;
    // a timer that fires a hair early must not schedule the boundary it was for a second time
    this.nextAt = this.boundaryAfter(Math.max(now, this.nextAt));
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(this.nextAt - now)));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    const ts = this.nextAt / 1000;
    if (!this.running) return;
    this.schedule();
    this.enqueue(this.detach(ts));
  };

  /**
   * Flushes now, stamped `ts` (Unix seconds), after any flush in progress. For tests and tools:
   * the timer does this on every interval boundary.
   */
  flushNow(ts: number): Promise<void> {
    return this.enqueue(this.detach(ts), false);
  }

  /**
   * Takes the interval's data at the boundary itself (synchronous and cheap), so every sample
   * parsed before the boundary belongs to that interval, even when emitting the previous flush is
   * still going on.
   */
  private detach(ts: number): { snap: Snapshot; ts: number } {
    // samples the inputs parsed before the boundary but still hold in their batches (up to
    // batch.maxDelayMs) belong to this interval, as in Etsy, where a packet counts the moment it is read
    this.ctx.drainInputs();
    if (ts <= this.lastFlushTs) ts = this.lastFlushTs + this.intervalMs / 1000;
    if (this.lastFlushTs > 0) {
      this.state.gauges.set(`${this.o.prefixStats}.timestamp_lag`, { v: ts - this.lastFlushTs - this.intervalMs / 1000 });
    }
    this.lastFlushTs = ts;
    const tooLong = this.state.takeTooLong();
    if (tooLong > 0) {
      this.ctx.stats.addDropped('name_too_long', tooLong);
      this.ctx.log.limited('name_too_long', `StatsD keys whose series names would pass ${MAX_NAME_LENGTH} characters dropped (counted in bad_lines_seen)`, { samples: tooLong });
    }
    const capped = this.state.takeCapped();
    if (capped > 0) {
      this.ctx.stats.addDropped('cardinality_cap', capped);
      this.ctx.log.limited('cardinality_cap', 'new StatsD keys over maxNewKeysPerFlush dropped', { samples: capped });
    }
    return { snap: this.state.snapshot(), ts };
  }

  /**
   * Emits detached flushes one after another. Normally one is pending at a time; if emitting falls
   * behind by more than MAX_BACKLOG intervals, the backlog is emitted without yielding so that
   * memory stays bounded (at the price of a pause in reading sockets), and counted.
   */
  private enqueue(job: { snap: Snapshot; ts: number }, chunked = true): Promise<void> {
    this.backlog++;
    if (this.backlog > MAX_BACKLOG) {
      chunked = false;
      this.ctx.stats.count('flush_overruns');
      this.ctx.log.limited('flush_overrun', 'StatsD flush is slower than flushIntervalMs; emitting without yielding', { backlog: this.backlog });
    }
    this.flushing = this.flushing
      .then(() => this.emit(job.snap, job.ts, chunked))
      .catch((err: unknown) => {
        this.ctx.stats.addError('flush');
        this.ctx.log.error('flush failed', { err: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => {
        this.backlog--;
      });
    return this.flushing;
  }

  /** Turns one snapshot into points. `chunked` yields to the event loop between chunks. */
  private async emit(snap: Snapshot, ts: number, chunked: boolean): Promise<void> {
    const points = this.ctx.points;
    const it = flushPoints(snap, this.cfg, (name, value) => points.add(name, value, ts));
    let r = it.next();
    while (!r.done) {
      if (chunked && this.backlog <= MAX_BACKLOG) await new Promise<void>((resolve) => setImmediate(resolve));
      r = it.next();
    }
    points.flush();
    this.checkRetention(snap, ts);
    this.last = { ...r.value, timestamp: ts };
    this.ctx.stats.count('flushes');
    this.ctx.stats.gauge('flush_points', r.value.points);
    this.ctx.bus.emit('flushed', { source: this.ctx.id, timestamp: ts, points: r.value.points });
  }

  /** Reads happen in the stores' own time: the next flush never waits for them. */
  private checkRetention(snap: Snapshot, ts: number): void {
    const watch = this.watch;
    if (watch === undefined || !this.running) return;
    watch.take(snap, ts);
    if (this.checking !== undefined || !watch.pending) return;
    this.checking = watch
      .drain()
      .then(() => this.ctx.stats.gauge('retention_mismatched_series', watch.mismatched))
      .catch((err: unknown) => this.ctx.log.limited('retention_check', 'checking new keys against the stores failed', { error: err as Error }))
      .finally(() => {
        this.checking = undefined;
      });
  }

  /** Etsy's management console reads, as JSON. Read-only: no del* and no health toggling. */
  private routes(base: string): Router {
    const r = new Router({ prefix: base });
    const s = this.state;
    r.get('/health', (c) => {
      c.body = { health: 'up' };
    });
    r.get('/stats', (c) => {
      const now = Math.round(this.ctx.now());
      c.body = {
        uptime: now - Math.round(this.startedAt),
        messages: { last_msg_seen: s.lastSampleAt > 0 ? now - Math.round(s.lastSampleAt) : null, samples_seen: s.samplesSeen },
        keys: { counters: s.counters.size, timers: s.timers.size, gauges: s.gauges.size, sets: s.sets.size },
        last_flush: this.last ?? null,
        flush_interval_ms: this.intervalMs,
      };
    });
    r.get('/counters', (c) => {
      const out: Record<string, number> = {};
      for (const [k, cell] of s.counters) out[k] = cell.v;
      c.body = out;
    });
    r.get('/timers', (c) => {
      const out: Record<string, number[]> = {};
      for (const [k, t] of s.timers) out[k] = t.values.slice();
      c.body = out;
    });
    r.get('/gauges', (c) => {
      const out: Record<string, number> = {};
      for (const [k, cell] of s.gauges) out[k] = cell.v;
      c.body = out;
    });
    r.get('/sets', (c) => {
      const out: Record<string, string[]> = {};
      for (const [k, set] of s.sets) out[k] = [...set];
      c.body = out;
    });
    return r;
  }
}
