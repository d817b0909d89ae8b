import { mkdir, rm, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import {
  FetchTooLarge,
  isBadName,
  normalizeSeriesName,
  type FetchOptions,
  type FindNode,
  type FindOptions,
  type PointBatch,
  type SeriesData,
  type StoreContext,
  type StoreInstance,
  usableCores,
} from '../../../core/index.js';
import {
  emptyFetch,
  fetchGrid,
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
import type { TagIndex } from '../../shared/name-index/index.js';
import { POOL_MAX_ELEMENTS, WriteCache, dedupeLastWins } from './cache.js';
import { mergeCached } from './merge.js';
import { ReadPool } from './reader.js';
import type { ReadFailed, ReadResult } from './read-protocol.js';
import { isTaggedSeries } from './paths.js';
import { TokenBucket } from './token-bucket.js';
import { WriteAheadLog } from './wal.js';
import { WalKeeper } from './wal-keeper.js';
import { DirectoryInUse, LOCK_FILE, LockUnavailable, liveHolder, lockDirectory, type LockRole } from './dir-lock.js';
import { mountsUnder, syncFilesystem } from './data-sync.js';
import { PersistWorker, openFileBudget } from './persister.js';
import { SeriesCatalog } from './series-catalog.js';
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
const IDLE_MS = 1000;
const BACKOFF_MS = 1000;
/** no point accepted for this long: the stream has paused, write what the cache holds */
const QUIET_MS = 20;
/** how long the cache stays empty before the arrays kept for reuse are let go */
const POOL_IDLE_MS = 10_000;

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

/**
 * The directories above `dir` whose store's walk would reach it: up to the first dot-named
 * component on the way (a walk skips dot-named entries, so a store there never sees `dir`).
 */
function ancestorsSeen(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; dirname(d) !== d; d = dirname(d)) {
    if (basename(d).startsWith('.')) break;
    out.push(dirname(d));
  }
  return out;
}

function nested(inner: string, outer: string, locked: string, held: { pid: number; role: LockRole }, via?: string): DirectoryInUse {
  const holder = held.pid === process.pid ? `this process (${held.pid})` : `process ${held.pid}`;
  const where = via === undefined ? `${inner} is inside ${outer}` : `${inner} is inside ${outer} (through the symlink ${via})`;
  const what =
    held.role === 'linked'
      ? `${where}, and ${locked} is reached by ${holder}'s store through a symlink in its data directory: `
      : `${where}, and ${holder} holds the lock of ${locked} for another store: `;
  return new DirectoryInUse(
    what +
      "the walk of a data directory would list the other store's series as its own, and both stores could write one file. Give each store a dataDir (and walDir) outside the others'",
  );
}

/** FNV-1a over the file's key (FileAliases): spreads files over the worker lanes, always the same lane per file. */
function laneOf(key: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
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

/**
 * The Whisper store: carbon-cache's job in one object. Accepted points go to the write-back
 * cache (and the WAL); a persister writes them out, series with most points first, through
 * async positioned I/O with bounded concurrency; queries read the files and merge the cache.
 */
export class WhisperStore implements StoreInstance {
  readonly tags: TagIndex;
  private rules: StorageRules = StorageRules.build({});
  private readonly dataDir: string;
  /** names, files, the find tree and the tag index (series-catalog.ts) */
  private readonly catalog: SeriesCatalog;
  private readonly known: ReadonlySet<string>;
  private readonly onDisk: ReadonlySet<string>;
  /** query-side file reads, on worker threads (reader.ts) */
  private readonly reader: ReadPool;
  /** series whose file is corrupt: never written, reads skip them */
  private readonly corrupt = new Set<string>();
  private readonly cache: WriteCache;
  private readonly wal: WriteAheadLog | undefined;
  private readonly walDir: string;
  /** replay, timers, segment deletion and re-logging of the WAL (wal-keeper.ts) */
  private readonly walKeeper: WalKeeper | undefined;
  /** releases the directory locks taken at start */
  private unlocks: Array<() => Promise<void>> = [];
  /** the real paths of the data directory and the WAL directory, once locked */
  private lockedDirs: string[] = [];
  /** the directories linked into the tree whose lock this store holds: real path → unlock */
  private readonly linkedLocked = new Map<string, () => Promise<void>>();
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
  private readonly workers: PersistWorker[];
  private createsQueued = 0;
  /** filesystems mounted below the tree since start (mount table, read anew before each sync) */
  private mountRoots: string[] = [];
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
  private readonly onHup = (): void =>
    void this.reloadRules()
      .then(() => this.catalog.rescan(new Set(this.linkedLocked.keys())))
      .then(async ({ links, complete }) => {
        await this.lockLinkedDirectories(links, false);
        if (complete) await this.unlockUnlinked(new Set(links));
      })
      .catch((err: Error) => this.ctx.log.error('SIGHUP: re-reading the data directory, or locking and releasing its linked directories, failed', { error: err }));

  constructor(
    private readonly ctx: StoreContext,
    private readonly o: Readonly<WhisperStoreOptions>,
  ) {
    this.dataDir = resolve(o.dataDir);
    // arrays kept for reuse: room for at most half the budget's points (two arrays per entry), and 128 MB
    this.cache = new WriteCache(Math.min(POOL_MAX_ELEMENTS, o.cacheMaxPoints));
    this.catalog = new SeriesCatalog(ctx, this.dataDir, (name) => this.cache.pendingEntry(name) !== undefined);
    // the catalog's own sets, read here on the ingest path without a call; only the catalog changes them
    ({ tags: this.tags, known: this.known, onDisk: this.onDisk } = this.catalog);
    this.updateBucket = new TokenBucket(o.maxUpdatesPerSecond);
    this.createBucket = new TokenBucket(o.maxCreatesPerMinute / 60, o.maxCreatesPerMinute);
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
    if (o.durability === 'wal') {
      this.wal = new WriteAheadLog(this.walDir);
      const host = {
        writeOut: () => this.pass('all'),
        syncData: () => this.syncData(),
        accept: (name: string) => this.known.has(name) || this.catalog.admit(name),
      };
      const { cacheMaxPoints, walFlushIntervalMs, walSyncIntervalMs, walSegmentSecs } = o;
      this.walKeeper = new WalKeeper(this.wal, ctx, this.cache, host, { high: this.high, low: this.low, cacheMaxPoints, walFlushIntervalMs, walSyncIntervalMs, walSegmentSecs });
    }
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
    this.lockedDirs = dirs;
    try {
      for (const d of dirs) {
        try {
          this.unlocks.push(await lockDirectory(d, { role: d === dirs[0] ? 'data' : 'wal' }));
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

  /**
   * A data directory inside another running store's (or holding one) is refused: the outer
   * store's walk would list the inner one's series as its own, and a point under such a name
   * would have both stores writing one file. Checked both ways, so whichever starts second is
   * refused: here the directories above ours, and after the start-up walk the locks it met below
   * (`catalog.lockedBelow`).
   */
  private async refuseNestingAbove(): Promise<void> {
    const data = this.lockedDirs[0]!;
    for (const dir of new Set([...ancestorsSeen(data), ...ancestorsSeen(this.dataDir)])) {
      const real = await realpath(dir).catch(() => dir);
      if (this.lockedDirs.includes(real)) continue; // our own WAL directory
      const held = await liveHolder(join(dir, LOCK_FILE));
      // a WAL directory holds no series: a data directory inside or around one is not walked by it
      if (held !== undefined && held.role !== 'wal') throw nested(data, real, real, held);
    }
  }

  /**
   * The directories the walk reached through symlinks (disks linked into the tree) are locked too
   * (role `linked`): a store started afterwards on one of them, or below one, by its real path is
   * then refused like one started inside the data directory, instead of both writing its files.
   * One that cannot take a lock file (a read-only archive) is walked and read all the same. At
   * start a link to another store's directory refuses the start; on SIGHUP the rescan has left
   * such a directory out, and what is refused here is only a store started since the walk.
   */
  private async lockLinkedDirectories(reals: Iterable<string>, atStart: boolean): Promise<void> {
    const inside = this.lockedDirs[0]! + sep;
    for (const real of new Set(reals)) {
      if (real.startsWith(inside) || this.lockedDirs.includes(real) || this.linkedLocked.has(real)) continue;
      try {
        const unlock = await lockDirectory(real, { role: 'linked' });
        // a SIGHUP's rescan that ends after a stop began: the stop has released the locks
        if (!atStart && this.stopping) return await unlock();
        this.linkedLocked.set(real, unlock);
      } catch (err) {
        if (err instanceof DirectoryInUse) {
          if (atStart) throw err;
          // another store took it between the rescan's walk and here: the walk listed its series
          this.ctx.stats.addError('nested_store');
          this.ctx.log.error('a store started on a linked directory while the data directory was re-read: its series stay listed here until the next SIGHUP', { dir: real, error: err });
          continue;
        }
        this.ctx.log.warn('cannot lock a directory linked into the data directory: a store started on it would not be refused', { dir: real, error: err as Error });
      }
    }
  }

  /**
   * A directory whose symlink has gone from the tree (a disk unlinked while running) can no longer
   * be written through it: each update stats its path first (persist-worker.ts). Its lock goes, so
   * that a store can be started on it without restarting this one.
   */
  private async unlockUnlinked(reached: ReadonlySet<string>): Promise<void> {
    for (const [real, unlock] of [...this.linkedLocked]) {
      if (reached.has(real) || this.stopping) continue;
      this.linkedLocked.delete(real);
      await unlock();
      this.ctx.log.info('a directory no longer linked into the data directory: its lock released', { dir: real });
    }
  }

  private async unlockDirectories(): Promise<void> {
    const linked = [...this.linkedLocked.values()];
    this.linkedLocked.clear();
    for (const unlock of [...this.unlocks.splice(0), ...linked]) await unlock();
  }

  private async startLocked(): Promise<void> {
    await this.refuseNestingAbove();
    // files of creates a crash interrupted: never linked into the tree, so nothing refers to them
    await rm(join(this.dataDir, STAGING_DIR), { recursive: true, force: true });
    for (const w of this.workers) w.warm();
    const readers = this.reader.warm();
    this.maxOpenPerWorker = await openFileBudget(this.workers.length);
    this.rules = await this.loadRules();
    await this.catalog.walkAtStart();
    const [below] = this.catalog.lockedBelow;
    if (below) {
      const real = await realpath(below.dir).catch(() => below.dir);
      // the walk's path names the link it went through, when there is one inside the tree
      const plain = join(this.lockedDirs[0]!, relative(this.dataDir, below.dir));
      throw nested(real, this.lockedDirs[0]!, real, below, real === plain ? undefined : below.dir);
    }
    await this.lockLinkedDirectories(this.catalog.aliases.directoryLinks.map((l) => l.real), true);
    await this.walKeeper?.replay();
    await readers; // the first query must not pay the read threads' start-up
    this.ctx.log.info('whisper store ready', {
      dataDir: this.dataDir,
      series: this.onDisk.size,
      // what the replay left unwritten (a replay over the high-water mark writes as it goes)
      cachedPoints: this.cache.points,
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
      this.walKeeper?.stopTimers();
      this.ctx.bus.off('reload', this.onHup);
      // the drain's writes (and any earlier ones still in the page cache) reach the disk before
      // the WAL that covers them is deleted
      const durable = await this.syncData();
      await this.walKeeper?.close(durable);
    } finally {
      this.started = false;
      // a stop that failed early must not leave WAL timers running on a directory it unlocks
      this.walKeeper?.stopTimers();
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
        if (!this.known.has(name) && !this.catalog.admit(name)) {
          badName++;
          continue;
        }
        if (this.corrupt.size !== 0 && this.corrupt.has(name)) {
          corrupt++;
          continue;
        }
        sp = cache.newEntry(name, seg, id);
        if (!this.onDisk.has(name)) this.toCreate.push(name);
      }
      sp.push(t, v);
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

  // ---- persister ----------------------------------------------------------------------------

  private async run(): Promise<void> {
    this.walKeeper?.startTimers();
    let stalled = 0;
    for (;;) {
      if (this.cache.pendingSeries === 0) {
        if (this.stopping) return;
        // nothing written for a while: the arrays kept for the next pass go back to the system
        // (not at once: a load that comes in bursts would allocate them again each time)
        if (this.cache.points === 0 && this.cache.pool.elements > 0 && performance.now() - this.lastWriteAt >= POOL_IDLE_MS) this.cache.pool.clear();
        await this.idle(IDLE_MS);
        continue;
      }
      const due = this.due();
      if (typeof due === 'number') {
        await this.idle(due);
        continue;
      }
      const progressed = await this.pass(due);
      this.walKeeper?.afterPass();
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
      const draining = this.stopping || this.walKeeper?.replaying === true;
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
        await this.updateBucket.take(() => this.stopping);
      }
      const w = lanes.length === 1 ? 0 : laneOf(this.catalog.laneKey(name), lanes.length);
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
    const parts: Array<{ times: Float64Array; values: Float64Array }> = [];
    let total = 0;
    const newTagged = names.filter((n) => isTaggedSeries(n) && !this.onDisk.has(n));
    if (newTagged.length > 0) await this.catalog.adoptReadableBeforeCreate(newTagged);
    for (const name of names) {
      const sp = this.cache.take(name);
      if (!sp) continue;
      const d = dedupeLastWins(sp);
      taken.push(name);
      parts.push(d);
      total += d.times.length;
      paths.push(this.catalog.pathOf(name)!);
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
    // a write-out during start-up (the WAL's replay) can take many chunks: each one is progress
    this.ctx.startProgress?.();
    const stats = this.ctx.stats;
    const failed = new Map(results.failures.map((f) => [f.i, f]));
    let updates = 0;
    let written = 0;
    let tooOld = 0;
    let creates = 0;
    for (let i = 0; i < taken.length; i++) {
      const name = taken[i]!;
      const ok = results.ok[i] === 1;
      // a file created now, or found already there when it was to be created: recorded in the catalog once
      const fileNow = results.created[i] === 1 || (ok && specOf[i]! >= 0);
      if (fileNow && this.catalog.created(name) && results.created[i] === 1) creates++;
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
    await this.catalog.saveTaggedNames();
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
      this.catalog.tornFileSetAside(name);
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
      this.catalog.fileRemoved(name);
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
   * the files are left to the kernel's writeback, said once in the log. Never two at once: while
   * running only the WAL keeper's 'segment' job calls it (one job of a kind at a time), then stop.
   */
  private async syncData(): Promise<boolean> {
    // read anew each time: a mount point unmounted and removed must not fail every later sync
    const { syncRoots, aliases } = this.catalog;
    this.mountRoots = (await mountsUnder(aliases.realRoots)).filter((m) => !syncRoots.has(m));
    const r = await syncFilesystem([...syncRoots, ...this.mountRoots]);
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

  // ---- queries ------------------------------------------------------------------------------

  specFor(name: string): SeriesRule {
    return this.rules.match(name);
  }

  async find(pattern: string, opts?: FindOptions): Promise<FindNode[]> {
    return this.catalog.find(pattern, opts);
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
      const path = this.catalog.pathOf(name);
      if (path) wanted.push({ name, path, cached: this.cache.pointsOf(name) });
    }
    if (wanted.length === 0) return [];
    const maxPoints = opts?.maxPoints ?? Infinity;
    const signal = opts?.signal;
    signal?.throwIfAborted();
    const results = await this.reader.read(wanted.map((w) => w.path), from, until, now, maxPoints, signal);
    signal?.throwIfAborted();
    // what the answer holds, and would have held with the files refused as too large
    const room = { points: 0, tooLarge: false };
    for (const r of results) {
      if (r.ok) room.points += r.values.length;
      else if (r.code === 'too_large') {
        room.tooLarge = true;
        room.points += (r as ReadFailed).points ?? 0;
      }
    }
    if (room.tooLarge || room.points > maxPoints) throw new FetchTooLarge(room.points);
    const out: SeriesData[] = [];
    for (let i = 0; i < wanted.length; i++) {
      const s = this.settleRead(wanted[i]!, results[i]!, from, until, now, room, maxPoints);
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
    room: { points: number },
    maxPoints: number,
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
      room.points += fetchGrid(w.archive, w.from, w.until).length;
      if (room.points > maxPoints) throw new FetchTooLarge(room.points);
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
      torn_files_aside: this.catalog.tornAside,
      sync_roots: this.catalog.syncRoots.size + this.mountRoots.length,
      symlinks: this.catalog.aliases.links,
      series_on_disk: this.onDisk.size,
      points_per_update: this.updates > 0 ? this.pointsWritten / this.updates : 0,
      write_latency_ms: this.lastLatencyMs,
      update_ms_avg: this.updates > 0 ? this.writeMs / this.updates : 0,
      data_sync_ms: this.lastDataSyncMs,
    };
  }
}
