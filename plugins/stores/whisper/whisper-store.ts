import { mkdir, readdir, unlink, rm, stat, realpath } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import {
  isBadName,
  normalizeSeriesName,
  type FetchOptions,
  type FindNode,
  type PointBatch,
  type SeriesData,
  type StoreContext,
  type StoreInstance,
  usableCores,
} from '../../../core/index.js';
import {
  emptyFetch,
  encodeHeader,
  fetchWindow,
  MAX_TIMESTAMP,
  parseHeader,
  validateArchiveList,
  type AggregationMethod,
  type ArchiveSpec,
  type WhisperHeader,
} from '../../shared/whisper-format/index.js';
import { StorageRules, type SeriesRule } from '../../shared/storage-rules/index.js';
import { NameTree, TagIndex } from '../../shared/name-index/index.js';
import { WriteCache, dedupeLastWins } from './cache.js';
import { mergeCached } from './merge.js';
import { ReadPool } from './reader.js';
import type { ReadFailed, ReadResult } from './read-protocol.js';
import { isTaggedSeries, leafFits, seriesPath, taggedTreePath } from './paths.js';
import { TokenBucket } from './token-bucket.js';
import { WriteAheadLog } from './wal.js';
import { LockUnavailable, lockDirectory } from './dir-lock.js';
import { mountsUnder, syncFilesystem } from './data-sync.js';
import { FileAliases } from './file-aliases.js';
import { appendTaggedNames, moveToHashedNames, readableFileName, readableTaggedName, readTaggedNamesFile, sha256Hex, type MoveOutcome, type ReadableTaggedFile } from './tagged-files.js';
import { PersistWorker, openFileBudget } from './persister.js';
import type { CreateSpec } from './persist-protocol.js';
import type { WhisperStoreOptions } from './options.js';

/** new files are written here by the persist threads, then linked into the tree (persist-worker.ts) */
const STAGING_DIR = '.carbonado-staging';
/**
 * Write errors that say something about the filesystem or the process rather than one file (read-only
 * remount, out of descriptors, a busy or stale NFS mount...): the points stay queued and are retried.
 * Any other error is the file's own (EACCES, EISDIR, ENAMETOOLONG, EIO...): its points are dropped.
 * ENOSPC/EDQUOT (disk full) and ENOENT (file removed) have their own handling.
 */
const RETRIED_WRITE_ERRORS: ReadonlySet<string> = new Set(['EROFS', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'ENOMEM', 'ESTALE']);
/** a failed WAL re-log is tried again after 1 s, 2 s, 4 s… up to a minute */
const RELOG_BACKOFF_MIN_MS = 1000;
const RELOG_BACKOFF_MAX_MS = 60_000;
const IDLE_MS = 1000;
const BACKOFF_MS = 1000;
/** no point accepted for this long: the stream has paused, write what the cache holds */
const QUIET_MS = 20;

/** series and points per chunk sent to the persist worker */
const CHUNK_SERIES = 512;
const CHUNK_POINTS = 100_000;
const CHUNKS_IN_FLIGHT = 2;

/**
 * `persistThreads: 'auto'`: one thread per usable core (affinity and cgroup quota) beyond the
 * first (which the event loop needs), at most 2. Measured on 2 cores (docs/performance.md, third
 * pass): a second thread made the 10,000-new-files burst cost ~0.6 s more CPU (two threads
 * creating files contend in the filesystem: 100 instead of 70 µs per create) and was no faster
 * on 6 M updates either.
 */
export function persistThreadCount(setting: number | 'auto', cores = usableCores()): number {
  return setting === 'auto' ? Math.max(1, Math.min(2, cores - 1)) : setting;
}

/** FNV-1a over the file's key (FileAliases): spreads files over the worker lanes, always the same lane per file. */
function laneOf(key: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/**
 * The Whisper store: carbon-cache's job in one object. Accepted points go to the write-back
 * cache (and the WAL); a persister writes them out, series with most points first, through
 * async positioned I/O with bounded concurrency; queries read the files and merge the cache.
 */
/** What the walk of the data directory does with what it finds. */
interface ScanVisitor {
  /** the start-up walk also removes crash leftovers, counts torn files and learns symlinks */
  readonly startup: boolean;
  file(name: string): void;
  /** a directory (by its name prefix, `a.b.`; '' for the data directory) could not be read */
  unreadable?(prefix: string): void;
  /** tagged files under their readable names: moved to their hashed names after the walk */
  readonly readable: ReadableTaggedFile[];
}

/** The store's retention and aggregation rules: inline, then the carbon files the options name. */
export function loadStorageRules(o: Readonly<WhisperStoreOptions>): Promise<StorageRules> {
  return StorageRules.load({
    schemas: o.schemas,
    aggregation: o.aggregation,
    ...(o.schemasFile ? { schemasFile: o.schemasFile } : {}),
    ...(o.aggregationFile ? { aggregationFile: o.aggregationFile } : {}),
  });
}

export class WhisperStore implements StoreInstance {
  readonly tags = new TagIndex();
  private rules: StorageRules = StorageRules.build({});
  private readonly dataDir: string;
  /** dataDir with a trailing separator, for pathOf */
  private readonly dataDirPrefix: string;
  private readonly tree = new NameTree();
  /** every series seen: on disk, or accepted into the cache */
  private readonly known = new Set<string>();
  private readonly onDisk = new Set<string>();
  /** query-side file reads, on worker threads (reader.ts) */
  private readonly reader: ReadPool;
  /** series whose file is corrupt: never written, reads skip them */
  private readonly corrupt = new Set<string>();
  private readonly cache = new WriteCache();
  private readonly wal: WriteAheadLog | undefined;
  private readonly walDir: string;
  private walSegments: number[] = [];
  /** releases the directory locks taken at start */
  private unlocks: Array<() => Promise<void>> = [];
  /** after a replay: the last replayed segment, deleted as soon as its points are in the files */
  private replayedUpTo = -1;
  /** while the WAL is replayed at start: passes write without the rate limits, as a stop does */
  private replaying = false;
  /** a failed re-log is tried again from then on (performance.now()), backing off */
  private relogAt = 0;
  private relogBackoffMs = 0;
  private readonly updateBucket: TokenBucket;
  private readonly createBucket: TokenBucket;
  private readonly unlimited = new TokenBucket(0);
  private readonly high: number;
  private readonly low: number;
  private pressured = false;
  private stopping = false;
  private started = false;
  private diskFull = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly walBusy = new Set<string>();
  private readonly taggedToSave: string[] = [];
  /** readable-named tagged files that could not be moved, already reported (not tried again) */
  private readonly leftReported = new Set<string>();
  private adoptions: Promise<void> = Promise.resolve();
  private readonly workers: PersistWorker[];
  private createsQueued = 0;
  /** `.wsp.torn-<ms>` files under dataDir: kept for the operator, never deleted by the store */
  private tornAside = 0;
  /** while a rescan walks: the series created meanwhile (the walk may have missed their files) */
  private rescanCreated: Set<string> | undefined;
  private readonly tornExamples: string[] = [];
  /** dataDir and every directory in the tree on another filesystem (a mount or a symlinked disk) */
  private readonly syncRoots = new Set<string>();
  /** filesystems mounted below the tree since start (mount table, read anew before each sync) */
  private mountRoots: string[] = [];
  /** names that reach one file through symlinks: one persist thread per file (set by the walk) */
  private aliases = new FileAliases('');
  /** when write() last accepted points, and when the oldest point not yet taken by a pass came */
  private lastWriteAt = 0;
  private firstPendingAt = 0;
  /** series that got a cache entry while having no file: created at once, not coalesced */
  private toCreate: string[] = [];
  /** files each persist worker keeps open (set at start from the descriptor limit) */
  private maxOpenPerWorker = 1024;
  private pointsWritten = 0;
  private updates = 0;
  private writeMs = 0;
  private lastLatencyMs = 0;
  private dataSyncUnavailableLogged = false;
  private lastDataSyncMs = 0;
  /** headers of files not yet created, per storage rule (headerOf); rules' archive lists are shared objects */
  private readonly newFileHeaders = new WeakMap<readonly ArchiveSpec[], Map<string, WhisperHeader>>();
  private readonly onHup = (): void => void this.reloadRules().then(() => this.rescan());

  constructor(
    private readonly ctx: StoreContext,
    private readonly o: Readonly<WhisperStoreOptions>,
  ) {
    this.dataDir = resolve(o.dataDir);
    this.dataDirPrefix = this.dataDir.endsWith(sep) ? this.dataDir : this.dataDir + sep;
    this.updateBucket = new TokenBucket(o.maxUpdatesPerSecond);
    this.createBucket = new TokenBucket(o.maxCreatesPerMinute / 60, Math.max(1, o.maxCreatesPerMinute));
    this.high = Math.floor((o.cacheMaxPoints * o.pressureHighPercent) / 100);
    this.low = Math.min(this.high, Math.floor((o.cacheMaxPoints * o.pressureLowPercent) / 100));
    const cores = usableCores(); // read once for both thread pools (small files under /proc and /sys)
    this.reader = new ReadPool((err) => {
      this.ctx.stats.addError('read_worker');
      this.ctx.log.error('read worker crashed; it restarts on the next query', { error: err });
    }, cores);
    this.workers = Array.from(
      { length: persistThreadCount(o.persistThreads, cores) },
      () =>
        new PersistWorker((err) => {
          this.ctx.stats.addError('persist_worker');
          this.ctx.log.error('persist worker crashed; it restarts on the next pass', { error: err });
        }),
    );
    this.walDir = o.walDir ? resolve(o.walDir) : join(this.dataDir, '.carbonado-wal');
    if (o.durability === 'wal') this.wal = new WriteAheadLog(this.walDir);
    // Inline rules are checked now so that a bad config fails before start (no I/O here).
    StorageRules.build({ schemas: o.schemas, aggregation: o.aggregation });
  }

  async start(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    await this.lockDirectories();
    try {
      await this.startLocked();
    } catch (err) {
      await this.unlockDirectories();
      throw err;
    }
  }

  /**
   * The data directory and the WAL directory, each taken by one store only (dir-lock.ts). The WAL
   * directory has its own lock even inside the data directory: another store's `walDir` could
   * name it. Both by their real paths, so a symlink cannot make one directory two.
   */
  private async lockDirectories(): Promise<void> {
    const dirs = [await realpath(this.dataDir)];
    if (this.wal) {
      await mkdir(this.walDir, { recursive: true });
      const real = await realpath(this.walDir);
      if (!dirs.includes(real)) dirs.push(real);
    }
    try {
      for (const d of dirs) {
        try {
          this.unlocks.push(await lockDirectory(d));
        } catch (err) {
          if (!(err instanceof LockUnavailable)) throw err;
          // a full disk after a crash: the store must start to drain the WAL onto it
          this.ctx.log.warn('starting without the directory lock: a second store on this directory would not be refused', { error: err });
        }
      }
    } catch (err) {
      await this.unlockDirectories();
      throw err;
    }
  }

  private async unlockDirectories(): Promise<void> {
    for (const unlock of this.unlocks.splice(0)) await unlock();
  }

  private async startLocked(): Promise<void> {
    // files of creates a crash interrupted: never linked into the tree, so nothing refers to them
    await rm(join(this.dataDir, STAGING_DIR), { recursive: true, force: true });
    for (const w of this.workers) w.warm();
    const readers = this.reader.warm();
    this.maxOpenPerWorker = await openFileBudget(this.workers.length);
    this.rules = await this.loadRules();
    const top = await stat(this.dataDir);
    this.aliases = new FileAliases(await realpath(this.dataDir));
    this.syncRoots.add(this.dataDir);
    const walk: ScanVisitor = { startup: true, file: (n) => this.indexFile(n), readable: [] };
    await this.scan(this.dataDir, '', top.dev, new Set([`${top.dev}:${top.ino}`]), walk);
    await this.adoptReadable(walk.readable, walk.file);
    if (this.tornAside > 0) {
      this.ctx.log.warn('whisper files set aside after torn creates are still in the data directory; their series were created again from the WAL: look at them and delete them', {
        count: this.tornAside,
        first: this.tornExamples.join(' '),
      });
    }
    await this.loadTaggedNames();
    await this.afterWalk();
    if (this.wal) await this.replayWal(this.wal);
    await readers; // the first query must not pay the read threads' start-up
    this.ctx.log.info('whisper store ready', {
      dataDir: this.dataDir,
      series: this.onDisk.size,
      replayedPoints: this.cache.points,
    });
    // SIGHUP reaches plugins as the bus `reload` event (the CLI owns the signal)
    this.ctx.bus.on('reload', this.onHup);
    this.started = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    try {
      this.stopping = true;
      this.wakeUp?.();
      await this.loop;
      await Promise.all(this.workers.map((w) => w.close()));
      await this.reader.close();
      for (const t of this.timers) clearInterval(t);
      this.ctx.bus.off('reload', this.onHup);
      // the drain's writes (and any earlier ones still in the page cache) reach the disk before
      // the WAL that covers them is deleted
      const durable = await this.syncData();
      if (this.wal) {
        while (this.walBusy.size > 0) await new Promise((r) => setTimeout(r, 5));
        const wal = this.wal;
        // unwritten points must be in a WAL segment that can be replayed, not only in a broken one
        if (this.cache.points > 0 && wal.broken) {
          await this.relogWal(wal).catch((err: Error) => this.ctx.log.warn('the write-ahead log could not be started again while stopping', { error: err }));
        }
        await wal.close().catch((err: Error) => this.ctx.log.warn('closing the write-ahead log failed', { error: err }));
        if (!durable) {
          this.ctx.log.warn('the data directory could not be synced: the WAL is kept and replayed at next start');
        } else if (this.cache.points === 0) {
          try {
            for (const s of [...this.walSegments, wal.seq]) await wal.remove(s);
          } catch (err) {
            this.ctx.log.warn('WAL segments could not be deleted; their points are in the files, and the next start replays them again', { error: err as Error });
          }
        } else if (wal.broken) {
          this.ctx.log.error('stopped with unwritten points while the write-ahead log was failing: those accepted since it failed may be lost (the older segments are kept and replayed)', { points: this.cache.points, error: wal.broken });
        } else {
          this.ctx.log.warn('stopped with unwritten points; they stay in the WAL and are replayed at next start', { points: this.cache.points });
        }
      }
    } finally {
      this.started = false;
      // released even when the stop failed: this process would otherwise refuse its own next start
      await this.unlockDirectories();
    }
  }

  // ---- ingest -------------------------------------------------------------------------------

  write(batch: PointBatch): void {
    const { names, values, times, ids } = batch;
    const n = batch.length;
    const max = this.o.cacheMaxPoints;
    const seg = this.wal?.seq ?? 0;
    const wal = this.started ? this.wal : undefined;
    const cache = this.cache;
    const wasEmpty = cache.pendingSeries === 0;
    const createsBefore = this.toCreate.length;
    const pointsBefore = cache.points;
    let nan = 0;
    let badTime = 0;
    let full = 0;
    let badName = 0;
    let corrupt = 0;
    wal?.beginRecord();
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) {
        nan++;
        continue;
      }
      const t = Math.trunc(times[i]!);
      if (!(t > 0 && t <= MAX_TIMESTAMP)) {
        badTime++;
        continue;
      }
      if (this.cache.points >= max) {
        full++;
        continue;
      }
      const name = names[i]!;
      // hot path: an array index (or one map lookup without an id) for a series already pending
      const id = ids === undefined ? -1 : ids[i]!;
      let sp = id >= 0 ? cache.pendingById(id) : cache.pendingEntry(name);
      if (!sp && id >= 0) {
        sp = cache.pendingEntry(name);
        if (sp) cache.index(sp, id);
      }
      if (!sp) {
        if (!this.known.has(name) && !this.admit(name)) {
          badName++;
          continue;
        }
        if (this.corrupt.size !== 0 && this.corrupt.has(name)) {
          corrupt++;
          continue;
        }
        sp = cache.newEntry(name, seg);
        if (id >= 0) cache.index(sp, id);
        if (!this.onDisk.has(name)) this.toCreate.push(name);
      }
      sp.times.push(t);
      sp.values.push(v);
      cache.points++;
      if (wal) {
        // the series' WAL id is looked up once per cache entry and segment, not per point
        if (sp.walSeq !== seg) {
          sp.walId = wal.define(name);
          sp.walSeq = seg;
        }
        wal.appendPoint(sp.walId, t, v);
      }
    }
    wal?.endRecord();
    const stats = this.ctx.stats;
    if (nan) stats.addDropped('nan_value', nan);
    if (badTime) stats.addDropped('bad_timestamp', badTime);
    if (badName) stats.addDropped('bad_name', badName);
    if (corrupt) stats.addDropped('corrupt_file', corrupt);
    if (full) {
      stats.addDropped('cache_full', full);
      stats.count('cache_overflow', full);
      this.ctx.log.limited('cache_full', 'write-back cache full: points dropped', { cacheMaxPoints: max, dropped: full });
    }
    let wake = wasEmpty || this.toCreate.length > createsBefore;
    if (!this.pressured && this.cache.points >= this.high) {
      this.pressured = true;
      this.ctx.setPressure(true);
      wake = true;
    }
    if (cache.points !== pointsBefore) {
      this.lastWriteAt = performance.now();
      if (this.firstPendingAt === 0) this.firstPendingAt = this.lastWriteAt;
    }
    // while the loop coalesces it wakes itself on a timer; a wake-up per batch would only cost
    if (wake) this.wakeUp?.();
  }

  /**
   * The file of a series. A known plain name was checked when it was admitted (or comes from a
   * file in the tree), so its path is a concatenation; the full check and join cost ~3 µs per
   * series, a few ms of every 1,000-series render.
   */
  private pathOf(name: string): string | undefined {
    if (this.known.has(name) && !isTaggedSeries(name)) return `${this.dataDirPrefix}${name.replaceAll('.', sep)}.wsp`;
    return seriesPath(this.dataDir, name);
  }

  /** First sight of a series: validate it and make it findable at once. */
  private admit(name: string): boolean {
    const norm = normalizeSeriesName(name);
    if (isBadName(norm) || norm !== name || seriesPath(this.dataDir, name) === undefined) {
      const reason = isBadName(norm) ? norm.bad : norm !== name ? 'not_canonical' : !leafFits(name) ? 'file_name_too_long (last node over 251 bytes)' : 'bad_path';
      this.ctx.log.limited('bad_name', 'series name refused', { name: name.slice(0, 200), reason });
      return false;
    }
    this.known.add(name);
    this.tags.add(name);
    this.tree.add(isTaggedSeries(name) ? taggedTreePath(name) : name);
    return true;
  }

  // ---- persister ----------------------------------------------------------------------------

  private async run(): Promise<void> {
    if (this.wal) this.startWalTimers(this.wal);
    let stalled = 0;
    for (;;) {
      if (this.cache.pendingSeries === 0) {
        if (this.stopping) return;
        await this.idle(IDLE_MS);
        continue;
      }
      const due = this.due();
      if (typeof due === 'number') {
        await this.idle(due);
        continue;
      }
      const progressed = await this.pass(due);
      this.pruneReplayed();
      if (progressed) stalled = 0;
      else {
        // while stopping, one more pass: a file removed meanwhile is created by it
        if (this.stopping && ++stalled >= 2) {
          this.ctx.log.error('cannot write the cache out while stopping', { points: this.cache.points, diskFull: this.diskFull });
          return;
        }
        if (!this.stopping) await this.idle(BACKOFF_MS);
      }
    }
  }

  /**
   * What the persister does next: a pass over the whole cache ('all'), a pass that only creates
   * the files of new series ('new'), or wait (ms). Why coalesce: an update costs the same
   * syscalls and messages whether it carries 10 points or 100, and on a busy machine the CPU the
   * persister saves is the CPU ingestion needs. Points are queryable from the cache meanwhile,
   * and the WAL, not the files, bounds what a crash loses.
   */
  private due(): 'all' | 'new' | number {
    const coalesce = this.o.writeCoalesceMs;
    if (this.stopping || this.pressured || coalesce === 0) return 'all';
    const now = performance.now();
    if (now - this.lastWriteAt >= QUIET_MS || now - this.firstPendingAt >= coalesce) return 'all';
    if (this.toCreate.length > 0) return 'new';
    return Math.max(1, Math.min(this.lastWriteAt + QUIET_MS, this.firstPendingAt + coalesce) - now);
  }

  /** The series a 'new' pass creates: pending, still without a file, each once. */
  private newSeries(): string[] {
    const names = new Set<string>();
    for (const name of this.toCreate) if (!this.onDisk.has(name) && this.cache.pendingPoints(name) > 0) names.add(name);
    this.toCreate = [];
    return [...names];
  }

  /**
   * One pass over the cache, most points first (carbon's `sorted`), each series once. Chunks of
   * series go to the persist worker, two in flight so that it never waits for the main thread.
   */
  private async pass(mode: 'all' | 'new' = 'all'): Promise<boolean> {
    let names: string[];
    if (mode === 'new') names = this.newSeries();
    else {
      names = this.cache.snapshot();
      // points accepted from now on wait for the next pass
      this.firstPendingAt = 0;
      this.toCreate = [];
    }
    let progressed = false;
    let queued = 0;
    this.diskFull = false;
    const t0 = performance.now();
    const updatesBefore = this.updates;
    // one lane per worker thread; a file always maps to the same lane (under every name that
    // reaches it through a symlink), so one file is never written by two threads at once
    const lanes = this.workers.map(() => ({ chunk: [] as string[], points: 0, inflight: new Set<Promise<void>>() }));
    const send = (w: number): void => {
      const lane = lanes[w]!;
      const p = this.sendChunk(w, lane.chunk).then((ok) => {
        if (ok) progressed = true;
      });
      lane.chunk = [];
      lane.points = 0;
      lane.inflight.add(p);
      void p.finally(() => lane.inflight.delete(p));
    };
    for (const name of names) {
      if (this.diskFull) break;
      // read per series: a stop during a rate-limited pass writes the rest without the limits
      const draining = this.stopping || this.replaying;
      if (!this.onDisk.has(name) && !(draining ? this.unlimited : this.createBucket).tryTake()) {
        queued++;
        continue;
      }
      if (!draining && !this.updateBucket.tryTake()) {
        // about to wait for the update limit: what the pass has gathered goes out first, or a low
        // limit (carbon's MAX_UPDATES_PER_SECOND) would hold every file back until a whole chunk
        // of series had waited for its turn
        for (let w = 0; w < lanes.length; w++) {
          if (lanes[w]!.chunk.length === 0) continue;
          send(w);
          while (lanes[w]!.inflight.size >= CHUNKS_IN_FLIGHT) await Promise.race(lanes[w]!.inflight);
        }
        await this.updateBucket.take();
      }
      const w = lanes.length === 1 ? 0 : laneOf(this.aliases.keyOf(name), lanes.length);
      const lane = lanes[w]!;
      lane.chunk.push(name);
      lane.points += this.cache.pendingPoints(name);
      if (lane.chunk.length >= CHUNK_SERIES || lane.points >= CHUNK_POINTS) {
        send(w);
        while (lane.inflight.size >= CHUNKS_IN_FLIGHT) await Promise.race(lane.inflight);
      }
    }
    lanes.forEach((lane, w) => {
      if (lane.chunk.length > 0 && !this.diskFull) send(w);
    });
    await Promise.all(lanes.flatMap((l) => [...l.inflight]));
    // a 'new' pass sees only the newest series, and a pass cut short by a full disk not all of them
    if (mode === 'all' && !this.diskFull) this.createsQueued = queued;
    const done = this.updates - updatesBefore;
    if (done > 0) this.lastLatencyMs = (performance.now() - t0) / done;
    this.ctx.stats.gauge('disk_full', this.diskFull ? 1 : 0);
    return progressed;
  }

  /** Takes the chunk's points out of the cache, has the worker write them, settles each series. */
  private async sendChunk(lane: number, names: string[]): Promise<boolean> {
    const paths: string[] = [];
    const taken: string[] = [];
    const specs: CreateSpec[] = [];
    // one entry per storage rule, not per series: the rules' archive lists are shared objects
    const specIndex = new Map<readonly ArchiveSpec[], Map<string, number>>();
    const specOf: number[] = [];
    const parts: Array<{ times: number[]; values: number[] }> = [];
    let total = 0;
    const newTagged = names.filter((n) => isTaggedSeries(n) && !this.onDisk.has(n));
    if (newTagged.length > 0) await this.adoptReadableBeforeCreate(newTagged);
    for (const name of names) {
      const sp = this.cache.take(name);
      if (!sp) continue;
      const d = dedupeLastWins(sp);
      taken.push(name);
      parts.push(d);
      total += d.times.length;
      paths.push(this.pathOf(name)!);
      if (this.onDisk.has(name)) {
        specOf.push(-1);
      } else {
        const r = this.rules.match(name);
        let byMethod = specIndex.get(r.archives);
        if (!byMethod) specIndex.set(r.archives, (byMethod = new Map()));
        const key = `${r.xFilesFactor}|${r.aggregationMethod}`;
        let k = byMethod.get(key);
        if (k === undefined) {
          k = specs.push({ archives: r.archives, xFilesFactor: r.xFilesFactor, aggregationMethod: r.aggregationMethod }) - 1;
          byMethod.set(key, k);
        }
        specOf.push(k);
      }
    }
    if (taken.length === 0) return false;
    const offsets = new Uint32Array(taken.length + 1);
    const times = new Float64Array(total);
    const values = new Float64Array(total);
    let at = 0;
    parts.forEach((d, i) => {
      offsets[i] = at;
      times.set(d.times, at);
      values.set(d.values, at);
      at += d.times.length;
    });
    offsets[taken.length] = at;
    let results;
    try {
      results = await this.workers[lane]!.run({ now: Math.trunc(this.ctx.now()), allocation: this.o.allocation, maxOpen: this.maxOpenPerWorker, stagingDir: join(this.dataDir, STAGING_DIR), paths, specs, createSpec: Int32Array.from(specOf), offsets, times, values });
    } catch (err) {
      for (const name of taken) this.cache.putBack(name);
      this.ctx.stats.addError('persist_worker');
      this.ctx.log.limited('persist_worker', 'persist worker failed: points stay queued', { error: err as Error });
      return false;
    }
    const stats = this.ctx.stats;
    const failed = new Map(results.failures.map((f) => [f.i, f]));
    let updates = 0;
    let written = 0;
    let tooOld = 0;
    let creates = 0;
    for (let i = 0; i < taken.length; i++) {
      const name = taken[i]!;
      const ok = results.ok[i] === 1;
      if (results.created[i] === 1 || (ok && specOf[i]! >= 0)) {
        if (!this.onDisk.has(name)) {
          this.markOnDisk(name);
          this.rescanCreated?.add(name);
          if (results.created[i] === 1) creates++;
          if (isTaggedSeries(name)) this.taggedToSave.push(name);
        }
      }
      if (ok) {
        updates++;
        this.writeMs += results.ms[i]!;
        written += results.written[i]!;
        tooOld += results.tooOld[i]!;
        this.cache.done(name);
      } else {
        const f = failed.get(i);
        this.writeFailed(name, paths[i]!, f?.code ?? 'error', f?.message ?? '');
      }
    }
    const any = updates > 0;
    this.updates += updates;
    this.pointsWritten += written;
    if (creates > 0) stats.count('creates', creates);
    if (updates > 0) stats.count('update_operations', updates);
    if (written > 0) stats.count('points_written', written);
    if (tooOld > 0) stats.addDropped('too_old', tooOld);
    if (this.taggedToSave.length > 0) await this.saveTaggedNames();
    if (this.pressured && this.cache.points <= this.low) {
      this.pressured = false;
      this.ctx.setPressure(false);
    }
    return any;
  }

  private writeFailed(name: string, path: string, code: string, message: string): void {
    const log = this.ctx.log;
    if (code === 'corrupt') {
      // never overwrite what we cannot read: the operator decides (whisper-info, restore, delete)
      this.corrupt.add(name);
      const n = this.cache.discard(name);
      this.ctx.stats.addDropped('corrupt_file', n);
      this.ctx.stats.addError('corrupt_file');
      log.limited('corrupt_write', 'corrupt whisper file: series skipped, points dropped', { path, error: message });
      return;
    }
    if (code !== 'torn' && code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'ENOENT' && !RETRIED_WRITE_ERRORS.has(code)) {
      // This file cannot be written (permissions, a directory in its place, a name the filesystem
      // refuses...) and retrying will not change that: keeping its points would fill the cache, pause
      // every input and pin every WAL segment behind one series. carbon-cache drops them too; new
      // points of the series try again.
      const n = this.cache.discard(name);
      this.ctx.stats.addError(code.toLowerCase());
      this.ctx.stats.addDropped('write_failed', n);
      log.limited(`write_${code}`, 'whisper write failed: points of this series dropped (the next points try again)', { path, points: n, error: message });
      return;
    }
    // the rest are kept for a later pass
    this.cache.putBack(name);
    if (code === 'torn') {
      // a create cut short by a power loss: the file had no header and was set aside; the next pass creates it again
      this.onDisk.delete(name);
      this.tornAside++;
      this.ctx.stats.addError('torn_file');
      log.limited('torn_file', 'whisper file without a header (a create cut short by a power loss?): set aside, series created again', { path, detail: message });
      return;
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      this.diskFull = true;
      this.ctx.stats.addError('disk_full');
      log.limited('disk_full', 'disk full: points stay queued, retrying', { path });
      return;
    }
    if (code === 'ENOENT') {
      // removed by an operator (carbon-cache allows it and creates the file at its next write):
      // not an error; created again in the next 'new' pass, within milliseconds
      this.onDisk.delete(name);
      this.toCreate.push(name);
      this.ctx.stats.count('files_removed');
      log.limited('file_removed', 'whisper file removed from under the store: created again', { path });
      return;
    }
    // RETRIED_WRITE_ERRORS: the filesystem's or the process's state, not this file's; it clears (or
    // the operator clears it) and the points wait within the cache budget, as on a full disk
    this.ctx.stats.addError(code.toLowerCase());
    log.limited(`write_${code}`, 'whisper write failed: points stay queued, retrying', { path, error: message });
  }

  /**
   * One syncfs of the data directory's filesystem (data-sync.ts). False when it failed: what
   * depends on it (deleting WAL segments) waits for the next try. Where no `sync` command exists
   * the files are left to the kernel's writeback, said once in the log.
   */
  private async syncData(): Promise<boolean> {
    // read anew each time: a mount point unmounted and removed must not fail every later sync
    this.mountRoots = (await mountsUnder(this.aliases.realRoots)).filter((m) => !this.syncRoots.has(m));
    const r = await syncFilesystem([...this.syncRoots, ...this.mountRoots]);
    if (r.result === 'synced') {
      this.ctx.stats.count('data_syncs');
      this.lastDataSyncMs = r.ms;
      return true;
    }
    if (r.result === 'unavailable') {
      if (!this.dataSyncUnavailableLogged) {
        this.dataSyncUnavailableLogged = true;
        this.ctx.log.warn('no `sync` command: whisper files are left to the kernel writeback before WAL segments are deleted', { error: r.message });
      }
      return true;
    }
    this.ctx.stats.addError('data_sync');
    this.ctx.log.limited('data_sync', 'syncing the data directory failed: WAL segments are kept', { error: r.message });
    return false;
  }

  private async saveTaggedNames(): Promise<void> {
    const names = this.taggedToSave.splice(0);
    try {
      await appendTaggedNames(this.dataDir, names);
    } catch (err) {
      this.taggedToSave.push(...names);
      this.ctx.stats.addError('tagged_names');
      this.ctx.log.limited('tagged_names', 'cannot record tagged series names', { error: err as Error });
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        res();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  // ---- WAL ----------------------------------------------------------------------------------

  private async replayWal(wal: WriteAheadLog): Promise<void> {
    this.replaying = true;
    try {
      await this.replaySegments(wal);
    } finally {
      this.replaying = false;
    }
  }

  private async replaySegments(wal: WriteAheadLog): Promise<void> {
    const segs = await wal.segments();
    let points = 0;
    let overBudget = false;
    // a WAL can hold more than the cache's budget (segments live up to walSegmentSecs after
    // their points are written): the cache is written out as it fills, not held whole
    let stalled = false;
    const between = (): Promise<void> | undefined =>
      this.cache.points >= this.high && !stalled
        ? this.drainDuringReplay().then((drained) => {
            stalled = !drained;
          })
        : undefined;
    for (const seg of segs) {
      const r = await wal.replay(
        seg,
        (name, t, v) => {
          if (!this.known.has(name) && !this.admit(name)) return;
          this.cache.add(name, t, v, seg);
          points++;
        },
        between,
      );
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
    this.walSegments = segs;
    await wal.open(segs.length > 0 ? segs[segs.length - 1]! + 1 : 1);
    if (segs.length > 0) this.replayedUpTo = segs[segs.length - 1]!;
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
    while (this.cache.points > this.low) if (!(await this.pass('all'))) return false;
    return true;
  }

  /**
   * Replaces a broken WAL segment (a failed write or fsync, or its directory removed) with a new
   * one holding every point of the cache, so that a crash afterwards loses no more than a crash
   * with a healthy WAL. Segments before it are deleted once it is synced.
   */
  private async relogWal(wal: WriteAheadLog): Promise<void> {
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
      if (!this.walSegments.includes(before)) this.walSegments.push(before);
      await wal.sync();
    } catch (err) {
      // a disk that stays full: the whole cache is encoded again at every try, so tries back off
      this.relogBackoffMs = Math.min(RELOG_BACKOFF_MAX_MS, Math.max(RELOG_BACKOFF_MIN_MS, this.relogBackoffMs * 2));
      this.relogAt = performance.now() + this.relogBackoffMs;
      throw err;
    }
    this.relogBackoffMs = 0;
    this.ctx.stats.count('wal_restarts');
    this.ctx.log.warn('write-ahead log started again in a new segment with every unwritten point', { segment: seq, points, after: cause });
    // every older segment is now redundant: on a full disk their space is wanted at once, not at
    // the next rotation (and a kill -9 meanwhile would replay their old points again)
    await this.pruneWal(wal);
  }

  /** Deletes the WAL segments whose points are all in the (synced) files. */
  private async pruneWal(wal: WriteAheadLog): Promise<void> {
    const keepFrom = this.cache.minSegment(wal.seq);
    if (!(this.walSegments.length > 0 && this.walSegments[0]! < keepFrom) || wal.broken) return;
    // those segments' points are in the files, but maybe only in the page cache: a power
    // loss now would lose them with the segment gone, so the files are synced first
    if (!(await this.syncData())) return;
    while (this.walSegments.length > 0 && this.walSegments[0]! < keepFrom) await wal.remove(this.walSegments.shift()!);
  }

  /**
   * Runs a WAL job unless one of the same kind runs. Kinds: 'flush', 'sync' and 'segment'
   * (rotation, restart and deletion, which change the segment list). A slow fsync (seconds on
   * a loaded disk) must never hold back the hand-off of new records to the OS, which is what
   * bounds a kill -9's loss.
   */
  private async walJob(key: 'flush' | 'sync' | 'segment', fn: () => Promise<void>): Promise<void> {
    if (this.walBusy.has(key)) return;
    this.walBusy.add(key);
    try {
      await fn();
    } catch (err) {
      this.ctx.stats.addError('wal_write');
      this.ctx.log.limited('wal_write', 'write-ahead log failed', { error: err as Error });
    } finally {
      this.walBusy.delete(key);
    }
  }

  private startWalTimers(wal: WriteAheadLog): void {
    this.timers.push(
      setInterval(() => {
        if (!wal.broken) void this.walJob('flush', () => wal.flush());
        else {
          wal.dropBuffered();
          if (performance.now() >= this.relogAt) void this.walJob('segment', () => (wal.broken ? this.relogWal(wal) : Promise.resolve()));
        }
      }, this.o.walFlushIntervalMs),
    );
    this.timers.push(
      setInterval(
        () =>
          void this.walJob('sync', async () => {
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
          void this.walJob('segment', async () => {
            if (wal.broken) return; // the flush timer starts a new segment with the cache's points
            const before = wal.seq;
            try {
              await wal.rotate();
            } finally {
              // closed even when closing it failed: it must be deleted like any other, or a later
              // start would replay its old points over newer ones
              if (wal.seq !== before && !this.walSegments.includes(before)) this.walSegments.push(before);
            }
            await this.pruneWal(wal);
          }),
        this.o.walSegmentSecs * 1000,
      ),
    );
    for (const t of this.timers) t.unref();
  }

  /**
   * After a replay the replayed segments are deleted as soon as their points are in the files,
   * not at the next rotation: a process restarted more often than walSegmentSecs (a crash loop)
   * would otherwise replay, and keep, everything since the first crash.
   */
  private pruneReplayed(): void {
    const wal = this.wal;
    if (!wal || this.replayedUpTo < 0 || this.cache.minSegment(wal.seq) <= this.replayedUpTo) return;
    this.replayedUpTo = -1;
    void this.walJob('segment', () => this.pruneWal(wal));
  }

  // ---- start-up -----------------------------------------------------------------------------

  private async loadRules(): Promise<StorageRules> {
    const rules = await loadStorageRules(this.o);
    for (const w of rules.warnings) this.ctx.log.warn(w);
    return rules;
  }

  /** SIGHUP: re-read the rule files; they apply to files created from now on, as in carbon. */
  private async reloadRules(): Promise<void> {
    try {
      this.rules = await this.loadRules();
      this.ctx.stats.count('rules_reloaded');
      this.ctx.log.info('storage rules reloaded (they apply to new files only)');
    } catch (err) {
      this.ctx.stats.addError('rules_reload');
      this.ctx.log.error('storage rules reload failed; the previous rules stay', { error: err as Error });
    }
  }

  /**
   * Builds the index from the tree on disk, once (no periodic walk). Symlinked directories and
   * files are followed, as graphite-web's finder follows them (operators spread big trees over
   * disks that way); a link back into its own ancestry is skipped. A directory on another
   * filesystem than its parent becomes a sync root, so the sync before WAL segments are deleted
   * covers it too.
   */
  private async scan(dir: string, prefix: string, dev: number, ancestors: ReadonlySet<string>, visit: ScanVisitor): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      this.ctx.stats.addError('scan');
      this.ctx.log.warn('cannot read directory while indexing', { dir, error: err as Error });
      visit.unreadable?.(prefix);
      return;
    }
    const subdirs: Promise<void>[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) {
        // a temporary file of a create interrupted by a crash (while running, it may be a live one)
        if (visit.startup && e.isFile() && e.name.endsWith('.tmp') && e.name.includes('.wsp.')) await unlink(join(dir, e.name)).catch(() => undefined);
        continue;
      }
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let real: string | undefined;
      let target: Stats | undefined;
      if (e.isSymbolicLink()) {
        target = await stat(join(dir, e.name)).catch(() => undefined); // dangling: nothing to index
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
        if (target) real = await realpath(join(dir, e.name)).catch(() => undefined);
      }
      if (isDir) {
        if (visit.startup && real !== undefined) this.aliases.addDirectoryLink(`${prefix}${e.name}.`, real);
        subdirs.push(this.scanSubdir(join(dir, e.name), `${prefix}${e.name}.`, dev, ancestors, visit, target));
      } else if (isFile && e.name.endsWith('.wsp') && e.name.length > 4) {
        const leaf = e.name.slice(0, -4);
        const tagged = real === undefined && prefix.startsWith('_tagged.') ? readableTaggedName(prefix, leaf) : undefined;
        if (tagged !== undefined) {
          visit.readable.push({ dir, file: e.name, name: tagged });
          continue;
        }
        const name = prefix + leaf;
        if (name.includes(sep)) continue;
        if (visit.startup && real !== undefined) this.aliases.addFileLink(name, real);
        visit.file(name);
      } else if (visit.startup && isFile && e.name.includes('.wsp.torn-')) {
        if (this.tornAside++ < 3) this.tornExamples.push(join(dir, e.name));
      }
    }
    await Promise.all(subdirs);
  }

  /** `known`: the stat of a symlink's target, already taken by the caller */
  private async scanSubdir(path: string, prefix: string, parentDev: number, ancestors: ReadonlySet<string>, visit: ScanVisitor, known?: Stats): Promise<void> {
    let st = known;
    try {
      st ??= await stat(path);
    } catch (err) {
      this.ctx.stats.addError('scan');
      this.ctx.log.warn('cannot read directory while indexing', { dir: path, error: err as Error });
      visit.unreadable?.(prefix);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (ancestors.has(key)) {
      this.ctx.log.warn('symlink loop in the data directory: not followed', { dir: path });
      return;
    }
    if (st.dev !== parentDev) this.syncRoots.add(path);
    await this.scan(path, prefix, st.dev, new Set(ancestors).add(key), visit);
  }

  /** A `.wsp` found on disk enters the index (find, tags, and the set of files that exist). */
  private indexFile(name: string): void {
    this.onDisk.add(name);
    this.known.add(name);
    this.tree.add(name);
    if (!name.startsWith('_tagged.')) this.tags.add(name);
  }

  /**
   * SIGHUP: walks the data directory again and brings the index in line with it, so files made
   * by other tools while carbonado runs (a restore, whisper-create, an rsync, a carbon-cache beside
   * it) are found, and files deleted by hand (a cleanup with `find -mtime +N -delete`) are no
   * longer listed. Series created by the store while the walk runs, and series with points still
   * in the cache, are kept whatever the walk saw.
   */
  private async rescan(): Promise<void> {
    if (this.rescanCreated) return; // one walk at a time
    // series created from here to the end of the comparison (the walk may have missed their files)
    const created = (this.rescanCreated = new Set());
    try {
      await this.rescanWith(created);
    } finally {
      this.rescanCreated = undefined;
    }
  }

  private async rescanWith(created: ReadonlySet<string>): Promise<void> {
    const seen = new Set<string>();
    // a directory the walk could not read says nothing about the files under it
    const unreadable: string[] = [];
    const t0 = performance.now();
    try {
      const top = await stat(this.dataDir);
      const walk: ScanVisitor = { startup: false, file: (n) => seen.add(n), unreadable: (p) => unreadable.push(p), readable: [] };
      await this.scan(this.dataDir, '', top.dev, new Set([`${top.dev}:${top.ino}`]), walk);
      await this.adoptReadable(walk.readable, walk.file);
    } catch (err) {
      this.ctx.stats.addError('rescan');
      this.ctx.log.error('re-reading the data directory failed; the index stays as it was', { error: err as Error });
      return;
    }
    const treePaths = await this.taggedTreePaths();
    // hashed files whose series is known by name: the name stands for them (markOnDisk)
    const named = new Set(treePaths.values());
    let added = 0;
    for (const name of seen) {
      if (this.onDisk.has(name) || named.has(name)) continue;
      this.indexFile(name);
      added++;
    }
    let removed = 0;
    // deleting the entry being visited is safe while iterating a Set
    for (const name of this.onDisk) {
      const path = isTaggedSeries(name) ? (treePaths.get(name) ?? taggedTreePath(name)) : name;
      if (seen.has(path) || created.has(name) || this.cache.pendingEntry(name) || unreadable.some((p) => path.startsWith(p))) continue;
      this.onDisk.delete(name);
      this.known.delete(name);
      this.tree.delete(path);
      this.tags.delete(name);
      removed++;
    }
    // names another tool added (carbonado import-tags) for files now on disk
    await this.loadTaggedNames();
    await this.afterWalk();
    this.ctx.stats.count('rescans');
    this.ctx.log.info('data directory re-read', { added, removed, series: this.onDisk.size, ms: Math.round(performance.now() - t0) });
  }

  /**
   * The tree path of every tagged series on disk, by name: one sha256 each (about 3 µs), so the
   * event loop gets a turn every few thousand; a million tagged series would block it for seconds.
   */
  private async taggedTreePaths(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let n = 0;
    for (const name of [...this.onDisk]) {
      if (!isTaggedSeries(name)) continue;
      out.set(name, taggedTreePath(name));
      if (++n % 4096 === 0) await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  /**
   * Tagged files that carbon named after their series (TAG_HASH_FILENAMES = False) are moved to
   * their hashed names, as carbon-cache does when it next writes such a series, so that new points
   * land in the file that holds the old ones (graphite-web reads either name). `visit` gets each
   * file's path in the tree as it is afterwards; a file left in place is read by that path.
   */
  private async adoptReadable(found: readonly ReadableTaggedFile[], visit: (path: string) => void): Promise<void> {
    if (found.length === 0) return;
    const readablePath = (f: ReadableTaggedFile) => {
      const h = sha256Hex(f.name);
      return `_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.${f.file.slice(0, -4)}`;
    };
    // a file that could not be moved is not tried again until the next start
    const retry: ReadableTaggedFile[] = [];
    for (const f of found) {
      if (this.leftReported.has(join(f.dir, f.file))) visit(readablePath(f));
      else retry.push(f);
    }
    await this.serially(async () => {
      const r = await moveToHashedNames(this.dataDir, retry);
      retry.forEach((f, i) => {
        if (r.moved[i]) {
          visit(taggedTreePath(f.name));
          this.learnTaggedName(f.name, false);
        } else visit(readablePath(f));
      });
      this.reportMoves(r, retry);
    });
  }

  /**
   * Before a tagged series' file is created: a file under its readable name becomes its file, as
   * carbon-cache checks in exists() (one that arrived after the last walk, by a restore or an
   * rsync from a carbon).
   */
  private async adoptReadableBeforeCreate(names: readonly string[]): Promise<void> {
    await this.serially(async () => {
      const found: ReadableTaggedFile[] = [];
      await Promise.all(
        names.map(async (name) => {
          const h = sha256Hex(name);
          const dir = join(this.dataDir, '_tagged', h.slice(0, 3), h.slice(3, 6));
          const file = readableFileName(name);
          if (this.leftReported.has(join(dir, file))) return;
          if ((await stat(join(dir, file)).catch(() => undefined))?.isFile()) found.push({ dir, file, name });
        }),
      );
      if (found.length === 0) return;
      const r = await moveToHashedNames(this.dataDir, found);
      found.forEach((f, i) => {
        if (!r.moved[i]) return;
        this.learnTaggedName(f.name, false);
        this.rescanCreated?.add(f.name); // a walk that listed the directory before the move must keep it
      });
      this.reportMoves(r, found);
    });
  }

  /** Moves of readable-named files, one at a time: a walk and a create may find the same file. */
  private serially(fn: () => Promise<void>): Promise<void> {
    const p = this.adoptions.then(fn);
    this.adoptions = p.catch(() => undefined);
    return p;
  }

  private reportMoves(r: MoveOutcome, found: readonly ReadableTaggedFile[]): void {
    const moved = r.moved.filter(Boolean).length;
    if (moved > 0) {
      this.ctx.stats.count('tagged_files_renamed', moved);
      this.ctx.log.info('tagged series files named after their series moved to their hashed names, as carbon-cache does', { files: moved, first: found[r.moved.indexOf(true)]!.file });
    }
    if (r.recordError) {
      this.ctx.stats.addError('tagged_names');
      this.ctx.log.warn('cannot record the names of tagged series files named after their series: the files are left where they are and read by their paths', { files: found.length, error: r.recordError });
    }
    // reported once per file: a walk on every SIGHUP finds them again
    const fresh = r.left.filter((l) => !this.leftReported.has(l.file));
    if (fresh.length === 0) return;
    for (const l of fresh) this.leftReported.add(l.file);
    this.ctx.stats.addError('tagged_rename', fresh.length);
    this.ctx.log.warn(
      'tagged series files named after their series could not be moved to their hashed names: read by their paths, not by their tags (both_names_exist: merge the two with whisper-merge, then delete the readable one)',
      { files: fresh.length, first: fresh[0]!.file, reason: fresh[0]!.reason },
    );
  }

  private async afterWalk(): Promise<void> {
    if (this.taggedToSave.length > 0) await this.saveTaggedNames();
  }

  /**
   * A series' file exists. A hashed tagged file is listed by its tree path (`_tagged.…`) only
   * while its series' name is unknown: one entry per file, so `series_on_disk` counts files.
   */
  private markOnDisk(name: string): void {
    this.onDisk.add(name);
    if (isTaggedSeries(name)) this.onDisk.delete(taggedTreePath(name));
  }

  /** A tagged series whose hashed file exists: found by its name and tags (and recorded, unless it is). */
  private learnTaggedName(name: string, record: boolean): void {
    if (this.onDisk.has(name)) return;
    this.markOnDisk(name);
    this.known.add(name);
    this.tags.add(name);
    if (record) this.taggedToSave.push(name);
  }

  private async loadTaggedNames(): Promise<void> {
    for (const name of await readTaggedNamesFile(this.dataDir)) {
      if (this.onDisk.has(name) || !this.onDisk.has(taggedTreePath(name))) continue;
      const norm = normalizeSeriesName(name);
      if (isBadName(norm) || norm !== name) continue;
      this.markOnDisk(name);
      this.known.add(name);
      this.tags.add(name);
    }
  }

  // ---- queries ------------------------------------------------------------------------------

  specFor(name: string): SeriesRule {
    return this.rules.match(name);
  }

  async find(pattern: string): Promise<FindNode[]> {
    if (pattern.includes(';') && !pattern.startsWith('_tagged.')) {
      // graphite-web: a tagged "pattern" is looked up as one exact series
      const n = normalizeSeriesName(pattern);
      return !isBadName(n) && this.known.has(n) ? [{ path: n, isLeaf: true }] : [];
    }
    return this.tree.find(pattern);
  }

  async fetch(names: readonly string[], from: number, until: number, opts?: FetchOptions): Promise<SeriesData[]> {
    const now = Math.trunc(opts?.now ?? this.ctx.now());
    if (Math.trunc(from) > Math.trunc(until)) return []; // whisper raises InvalidTimeInterval; the API layer reports it
    // names are checked and the cache snapshotted here, BEFORE the files are read: a point the
    // persister writes meanwhile is then in the file or in the snapshot, never in neither
    const wanted: Array<{ name: string; path: string; cached: Array<readonly [number, number]> }> = [];
    for (const name of names) {
      if (!this.known.has(name)) {
        const norm = normalizeSeriesName(name);
        if (isBadName(norm) || norm !== name) continue;
      }
      if (this.corrupt.has(name)) continue;
      const path = this.pathOf(name);
      if (path) wanted.push({ name, path, cached: this.cache.pointsOf(name) });
    }
    if (wanted.length === 0) return [];
    const results = await this.reader.read(wanted.map((w) => w.path), from, until, now);
    const out: SeriesData[] = [];
    for (let i = 0; i < wanted.length; i++) {
      const s = this.settleRead(wanted[i]!, results[i]!, from, until, now);
      if (s) out.push(s);
    }
    return out;
  }

  /** One file's read result → its series: cache merged in; a file not yet created answers from the cache. */
  private settleRead(
    { name, path, cached }: { name: string; path: string; cached: Array<readonly [number, number]> },
    r: ReadResult,
    from: number,
    until: number,
    now: number,
  ): SeriesData | undefined {
    let result: { start: number; end: number; step: number; values: Float64Array };
    let method: AggregationMethod;
    let xFilesFactor: number;
    let rawStep: number;
    if (r.ok) {
      result = r;
      method = r.aggregationMethod;
      xFilesFactor = r.xFilesFactor;
      rawStep = r.rawStep;
    } else if (r.code === 'none') {
      return undefined;
    } else if (r.code === 'ENOENT' || r.code === 'ENOTDIR') {
      if (cached.length === 0) return undefined;
      // accepted but not yet on disk: the grid the file will have, filled from the cache
      const header = this.headerOf(name, path);
      const w = fetchWindow(header, from, until, now);
      if (!w) return undefined;
      result = emptyFetch(w.archive, w.from, w.until);
      method = header.aggregationMethod;
      xFilesFactor = header.xFilesFactor;
      rawStep = header.archives[0]!.secondsPerPoint;
    } else {
      const f = r as ReadFailed;
      this.ctx.stats.addError(f.code === 'corrupt' ? 'corrupt_file' : 'read_failed');
      this.ctx.log.limited(`read_${f.name}`, 'whisper read failed: series skipped', { path, error: f.message });
      return undefined;
    }
    mergeCached(cached, result.start, result.step, result.values, method, rawStep);
    return { name, start: result.start, end: result.end, step: result.step, values: result.values, consolidation: method, xFilesFactor };
  }

  /**
   * The header a new file for `name` gets, parsed once per storage rule: a render of a burst of
   * series not yet on disk asks for it once per series, and validating, encoding and parsing it
   * each time held the event loop for ~1 s in a cold process (UDP datagrams were lost meanwhile).
   */
  private headerOf(name: string, path: string): WhisperHeader {
    const rule = this.rules.match(name);
    let byMethod = this.newFileHeaders.get(rule.archives);
    if (!byMethod) this.newFileHeaders.set(rule.archives, (byMethod = new Map()));
    const key = `${rule.xFilesFactor}|${rule.aggregationMethod}`;
    let header = byMethod.get(key);
    if (!header) {
      header = parseHeader(encodeHeader(validateArchiveList(rule.archives), rule.xFilesFactor, rule.aggregationMethod), path);
      byMethod.set(key, header);
    }
    return header;
  }

  stats(): Record<string, number> {
    return {
      cache_points: this.cache.points,
      cache_series: this.cache.series,
      creates_queued: this.createsQueued,
      torn_files_aside: this.tornAside,
      sync_roots: this.syncRoots.size + this.mountRoots.length,
      symlinks: this.aliases.links,
      series_on_disk: this.onDisk.size,
      points_per_update: this.updates > 0 ? this.pointsWritten / this.updates : 0,
      write_latency_ms: this.lastLatencyMs,
      update_ms_avg: this.updates > 0 ? this.writeMs / this.updates : 0,
      wal_bytes: this.wal?.bytesWritten ?? 0,
      data_sync_ms: this.lastDataSyncMs,
    };
  }
}
