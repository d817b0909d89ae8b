import type { StoreContext } from '../../../core/index.js';
import type { WriteCache } from './cache.js';
import type { WriteAheadLog } from './wal.js';

/** a failed WAL re-log is tried again after 1 s, 2 s, 4 s… up to a minute */
const RELOG_BACKOFF_MIN_MS = 1000;
const RELOG_BACKOFF_MAX_MS = 60_000;

/** What the WAL keeper needs of the store. */
export interface WalKeeperHost {
  /** one pass over the whole cache (without rate limits while replaying); false when nothing could be written */
  writeOut(): Promise<boolean>;
  /** syncs the filesystems of the data directory; false when it failed */
  syncData(): Promise<boolean>;
  /** whether a replayed series name may enter the cache (known, or admitted now) */
  accept(name: string): boolean;
}

export interface WalKeeperOptions {
  /** cache fill (points) over which a replay writes the cache out, and down to which it writes */
  readonly high: number;
  readonly low: number;
  readonly cacheMaxPoints: number;
  readonly walFlushIntervalMs: number;
  readonly walSyncIntervalMs: number;
  readonly walSegmentSecs: number;
}

/**
 * The whisper store's use of its write-ahead log (wal.ts): the replay at start, the timers that
 * flush, sync and rotate segments, deleting the segments whose points are all in the (synced)
 * files, starting a new segment when the current one fails, and what a stop leaves behind. The
 * store itself appends each accepted point (`wal`) in its ingest loop.
 */
export class WalKeeper {
  /** closed segments not yet deleted, oldest first */
  private segments: number[] = [];
  /** after a replay: the last replayed segment, deleted as soon as its points are in the files */
  private replayedUpTo = -1;
  /** while the WAL is replayed at start: passes write without the rate limits, as a stop does */
  private replayingNow = false;
  /** a failed re-log is tried again from then on (performance.now()), backing off */
  private relogAt = 0;
  private relogBackoffMs = 0;
  private readonly busy = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** the WAL's bytesWritten already added to the `wal_bytes_written` counter */
  private countedBytes = 0;

  constructor(
    readonly wal: WriteAheadLog,
    private readonly ctx: StoreContext,
    private readonly cache: WriteCache,
    private readonly host: WalKeeperHost,
    private readonly o: WalKeeperOptions,
  ) {}

  get replaying(): boolean {
    return this.replayingNow;
  }

  async replay(): Promise<void> {
    this.replayingNow = true;
    try {
      await this.replaySegments();
    } finally {
      this.replayingNow = false;
    }
  }

  private async replaySegments(): Promise<void> {
    const wal = this.wal;
    const segs = await wal.segments();
    let points = 0;
    let overBudget = false;
    // a WAL can hold more than the cache's budget (segments live up to walSegmentSecs after
    // their points are written): the cache is written out as it fills, not held whole
    let stalled = false;
    const between = (): Promise<void> | undefined =>
      this.cache.points >= this.o.high && !stalled
        ? this.drainDuringReplay().then((drained) => {
            stalled = !drained;
          })
        : undefined;
    for (const seg of segs) {
      const r = await wal.replay(
        seg,
        (name, t, v) => {
          if (!this.host.accept(name)) return;
          this.cache.add(name, t, v, seg);
          points++;
        },
        between,
      );
      // a long replay (a big WAL written out as it fills) is start-up moving on, not stuck
      this.ctx.startProgress?.();
      if (r.torn) this.ctx.log.warn('WAL segment ends with a torn record (crash while writing); the rest was replayed', { segment: seg });
      if (r.damagedAt !== undefined) {
        // records carry no resync marker: what follows the damage cannot be read
        this.ctx.stats.addError('wal_damaged');
        const kept = await wal.keepDamaged(seg).catch(() => 'not copied');
        this.ctx.log.error('WAL segment damaged: the records from the damaged one on are not replayed', {
          segment: seg,
          offset: r.damagedAt,
          skippedBytes: r.skippedBytes,
          replayedPoints: r.points,
          copy: kept,
        });
      }
      if (!overBudget && this.cache.points > this.o.cacheMaxPoints) {
        overBudget = true;
        this.ctx.log.warn('the WAL holds more unwritten points than cacheMaxPoints and they cannot be written yet: the cache holds them all', { cacheMaxPoints: this.o.cacheMaxPoints });
      }
    }
    this.segments = segs;
    await wal.open(segs.length > 0 ? segs[segs.length - 1]! + 1 : 1);
    if (segs.length > 0 && points === 0) {
      // nothing in them to write out, so no pass would ever prune them: a crash loop without
      // traffic (each start opening a segment, each kill leaving it) would pile them up
      while (this.segments.length > 0) await wal.remove(this.segments.shift()!);
    } else if (segs.length > 0) this.replayedUpTo = segs[segs.length - 1]!;
    if (points > 0) {
      this.ctx.stats.count('wal_replayed_points', points);
      this.ctx.log.info('replayed the write-ahead log', { points, segments: segs.length });
    }
  }

  /**
   * Writes the cache out while a replay fills it, until below the low-water mark; false when the
   * files cannot take the points (a full disk). The caller then keeps the rest of the replay in
   * memory: trying again after every record would hold start-up past its timeout, and a store
   * that cannot start after a crash is worse than a cache over its budget.
   */
  private async drainDuringReplay(): Promise<boolean> {
    // each chunk a write-out sends reports start-up progress (whisper-store.ts, sendChunk)
    while (this.cache.points > this.o.low) if (!(await this.host.writeOut())) return false;
    return true;
  }

  /**
   * Replaces a broken WAL segment (a failed write or fsync, or its directory removed) with a new
   * one holding every point of the cache, so that a crash afterwards loses no more than a crash
   * with a healthy WAL. Segments before it are deleted once it is synced.
   */
  private async relog(): Promise<void> {
    const wal = this.wal;
    const before = wal.seq;
    const cause = wal.broken;
    let points = 0;
    let seq: number;
    try {
      seq = await wal.restart(() => {
        const seq = wal.seq;
        points = 0;
        wal.beginRecord();
        this.cache.forEachEntry((name, sp) => {
          const id = wal.define(name);
          for (let i = 0; i < sp.length; i++) wal.appendPoint(id, sp.times[i]!, sp.values[i]!);
          points += sp.length;
          sp.segment = seq;
          sp.walSeq = seq;
          sp.walId = id;
        });
        wal.endRecord();
      });
      // the broken segment stays until the new one is synced (pruned below)
      if (!this.segments.includes(before)) this.segments.push(before);
      await wal.sync();
    } catch (err) {
      // a disk that stays full: the whole cache is encoded again at every try, so tries back off
      this.relogBackoffMs = Math.min(RELOG_BACKOFF_MAX_MS, Math.max(RELOG_BACKOFF_MIN_MS, this.relogBackoffMs * 2));
      this.relogAt = performance.now() + this.relogBackoffMs;
      throw err;
    }
    this.relogBackoffMs = 0;
    this.countWritten();
    this.ctx.stats.count('wal_restarts');
    this.ctx.log.warn('write-ahead log started again in a new segment with every unwritten point', { segment: seq, points, after: cause });
    // every older segment is now redundant: on a full disk their space is wanted at once, not at
    // the next rotation (and a kill -9 meanwhile would replay their old points again)
    await this.prune();
  }

  /** Deletes the WAL segments whose points are all in the (synced) files. */
  private async prune(): Promise<void> {
    const wal = this.wal;
    const keepFrom = this.cache.minSegment(wal.seq);
    if (!(this.segments.length > 0 && this.segments[0]! < keepFrom) || wal.broken) return;
    // those segments' points are in the files, but maybe only in the page cache: a power
    // loss now would lose them with the segment gone, so the files are synced first
    if (!(await this.host.syncData())) return;
    while (this.segments.length > 0 && this.segments[0]! < keepFrom) await wal.remove(this.segments.shift()!);
  }

  /**
   * Runs a WAL job unless one of the same kind runs. Kinds: 'flush', 'sync' and 'segment'
   * (rotation, restart and deletion, which change the segment list). A slow fsync (seconds on
   * a loaded disk) must never hold back the hand-off of new records to the OS, which is what
   * bounds a kill -9's loss.
   */
  private async job(key: 'flush' | 'sync' | 'segment', fn: () => Promise<void>): Promise<void> {
    if (this.busy.has(key)) return;
    this.busy.add(key);
    try {
      await fn();
    } catch (err) {
      this.ctx.stats.addError('wal_write');
      this.ctx.log.limited('wal_write', 'write-ahead log failed', { error: err as Error });
    } finally {
      this.busy.delete(key);
    }
  }

  startTimers(): void {
    const wal = this.wal;
    this.timers.push(
      setInterval(() => {
        if (!wal.broken) void this.job('flush', () => wal.flush().finally(() => this.countWritten()));
        else {
          wal.dropBuffered();
          if (performance.now() >= this.relogAt) void this.job('segment', () => (wal.broken ? this.relog() : Promise.resolve()));
        }
      }, this.o.walFlushIntervalMs),
    );
    this.timers.push(
      setInterval(
        () =>
          void this.job('sync', async () => {
            if (wal.broken) return; // reported when it broke; the flush timer starts a new segment
            // a removed or moved data directory takes the segment with it: appending on would
            // go to a file no start-up replays
            if (!(await wal.checkLinked())) throw wal.broken;
            await wal.sync();
          }),
        this.o.walSyncIntervalMs,
      ),
    );
    this.timers.push(
      setInterval(
        () =>
          void this.job('segment', async () => {
            if (wal.broken) return; // the flush timer starts a new segment with the cache's points
            const before = wal.seq;
            try {
              await wal.rotate();
            } finally {
              // closed even when closing it failed: it must be deleted like any other, or a later
              // start would replay its old points over newer ones
              if (wal.seq !== before && !this.segments.includes(before)) this.segments.push(before);
            }
            await this.prune();
          }),
        this.o.walSegmentSecs * 1000,
      ),
    );
    for (const t of this.timers) t.unref();
  }

  private countWritten(): void {
    const delta = this.wal.bytesWritten - this.countedBytes;
    if (delta <= 0) return;
    this.ctx.stats.count('wal_bytes_written', delta);
    this.countedBytes += delta;
  }

  stopTimers(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /**
   * After each pass. After a replay the replayed segments are deleted as soon as their points are
   * in the files, not at the next rotation: a process restarted more often than walSegmentSecs
   * (a crash loop) would otherwise replay, and keep, everything since the first crash.
   */
  afterPass(): void {
    if (this.replayedUpTo < 0 || this.cache.minSegment(this.wal.seq) <= this.replayedUpTo) return;
    this.replayedUpTo = -1;
    void this.job('segment', () => this.prune());
  }

  /**
   * At stop, after the cache was written out as far as it could be and the files synced
   * (`durable`): the segments are deleted when every point is in the files, and kept for the next
   * start's replay otherwise.
   */
  async close(durable: boolean): Promise<void> {
    const wal = this.wal;
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 5));
    // unwritten points must be in a WAL segment that can be replayed, not only in a broken one
    if (this.cache.points > 0 && wal.broken) {
      await this.relog().catch((err: Error) => this.ctx.log.warn('the write-ahead log could not be started again while stopping', { error: err }));
    }
    await wal.close().catch((err: Error) => this.ctx.log.warn('closing the write-ahead log failed', { error: err }));
    this.countWritten();
    if (!durable) {
      this.ctx.log.warn('the data directory could not be synced: the WAL is kept and replayed at next start');
    } else if (this.cache.points === 0) {
      try {
        for (const s of [...this.segments, wal.seq]) await wal.remove(s);
      } catch (err) {
        this.ctx.log.warn('WAL segments could not be deleted; their points are in the files, and the next start replays them again', { error: err as Error });
      }
    } else if (wal.broken) {
      this.ctx.log.error('stopped with unwritten points while the write-ahead log was failing: those accepted since it failed may be lost (the older segments are kept and replayed)', { points: this.cache.points, error: wal.broken });
    } else {
      this.ctx.log.warn('stopped with unwritten points; they stay in the WAL and are replayed at next start', { points: this.cache.points });
    }
  }
}
