import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../core/runtime/start-worker.js';
import Database from 'better-sqlite3';
import {
  FetchTooLarge,
  isBadName,
  normalizeSeriesName,
  type FetchOptions,
  type SeriesSpec,
  type FindNode,
  type FindOptions,
  type PointBatch,
  type SeriesData,
  type StoreContext,
  type StoreInstance,
} from '../../../core/index.js';
import { NameTree, TagIndex } from '../../shared/name-index/index.js';
import { StorageRules } from '../../shared/storage-rules/index.js';
import { MAX_TIMESTAMP, fetchGrid, fetchWindow, isAggregationMethod, validateArchiveList, type AggregationMethod, type ArchiveSpec, type WhisperHeader } from '../../shared/whisper-format/index.js';
import { LockUnavailable, lockFile } from '../whisper/dir-lock.js';
import { mergeCached } from '../whisper/merge.js';
import { isTaggedSeries, taggedTreePath } from '../whisper/paths.js';
import { Layouts, type Layout } from './archive-math.js';
import { ReadPool } from './read-pool.js';
import type { RangeRead } from './read-protocol.js';
import type { SeriesRow } from './db-schema.js';
import type { FromWorker, NewSeries, ToWorker } from './worker-protocol.js';
import type { SqliteStoreOptions } from './options.js';

interface SeriesMeta {
  id: number | undefined;
  readonly header: WhisperHeader;
  readonly archives: ArchiveSpec[];
}

/** rows read per turn of the event loop at start (with a progress report each) */
const LOAD_ROWS_PER_TURN = 16_384;

/**
 * Accepted points not yet committed, per series, so fetch sees them at once: their indexes in
 * their chunk's `times` and `values` (a [t, v] pair per point was an allocation per point).
 */
type Pending = Map<string, number[]>;

/** Points and new series gathered for one transaction. `defined`: the names in `newSeries`. */
interface Chunk {
  names: string[];
  times: number[];
  values: number[];
  newSeries: NewSeries[];
  defined: Set<string>;
  pending: Pending;
}

/**
 * One series of a fetch: its grid, its read (an index into the fetch's reads; -1: none, the series
 * is not committed yet; an Error: it cannot be read), its uncommitted points.
 */
interface FetchPlan {
  readonly name: string;
  readonly grid: { start: number; end: number; step: number; length: number };
  readonly read: number | Error;
  readonly m: SeriesMeta;
  readonly cached: Array<[number, number]>;
}

/** Above this many points in the open chunk it is sent without waiting for the timer. */
const CHUNK_POINTS = 50_000;
/**
 * How long a stop keeps trying to commit while the database refuses every commit (a full disk, a
 * file another process locks) before it counts what is left as lost: well within the runtime's
 * stop timeout, so the rest of the stop (other stores' drains) still happens.
 */
const STOP_RETRY_MS = 15_000;

/**
 * The SQLite store. Writes: write() copies the batch into an open chunk (and the pending map that
 * fetch merges); a timer sends chunks to the writer worker, which applies whisper's update_many
 * semantics per series in one transaction. Reads: read threads (read-pool.ts), each with a
 * read-only connection (WAL lets them read while the writer commits), doing indexed range reads;
 * the main thread merges the points not yet committed into what they return.
 */
export class SqliteStore implements StoreInstance {
  private worker: Worker | undefined;
  private reader: Database.Database | undefined;
  private readers: ReadPool | undefined;
  private rules: StorageRules;
  private readonly meta = new Map<string, SeriesMeta>();
  private readonly layouts = new Layouts();
  private readonly tree = new NameTree();
  /** tagged series by the `_tagged.<h3>.<h3>.<sha256>` path find lists them under */
  private readonly byTreePath = new Map<string, string>();
  readonly tags = new TagIndex();
  private chunk = this.newChunk();
  private readonly inflight = new Map<number, { pending: Pending; times: number[]; values: number[]; points: number; newSeries: NewSeries[] }>();
  private seq = 0;
  private queued = 0;
  private pressure = false;
  private timer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private waiters = new Map<number, () => void>();
  private closing = false;
  private commits = 0;
  private commitMs = 0;
  private lastCommitMs = 0;
  private workerFailed: ((err: Error) => void) | undefined;
  private unlock: (() => Promise<void>) | undefined;

  constructor(
    private readonly ctx: StoreContext,
    private readonly o: Readonly<SqliteStoreOptions>,
  ) {
    // validates the inline rules now, so a bad rule fails the config check, not the first write
    this.rules = StorageRules.build({ schemas: o.schemas, aggregation: o.aggregation });
  }

  async start(): Promise<void> {
    this.rules = await StorageRules.load({
      schemas: this.o.schemas,
      aggregation: this.o.aggregation,
      ...(this.o.schemasFile ? { schemasFile: this.o.schemasFile } : {}),
      ...(this.o.aggregationFile ? { aggregationFile: this.o.aggregationFile } : {}),
    });
    for (const w of this.rules.warnings) this.ctx.log.warn(w);
    await this.lockDatabase();
    try {
      await this.startLocked();
    } catch (err) {
      // the runtime stops only the stores that started
      await this.worker?.terminate();
      this.worker = undefined;
      this.reader?.close();
      this.reader = undefined;
      await this.readers?.close();
      this.readers = undefined;
      await this.unlock?.();
      throw err;
    }
  }

  /**
   * One store per database file. A second carbonado (or an import-whisper run) on the same file
   * would write series this store's index never learns of, and a series it defines first keeps
   * this store's planned retention for reads until a restart. By the file's real path, so a
   * symlink cannot make one database two.
   */
  private async lockDatabase(): Promise<void> {
    await mkdir(dirname(this.o.path), { recursive: true });
    const real = await realpath(this.o.path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      return join(await realpath(dirname(this.o.path)), basename(this.o.path));
    });
    try {
      this.unlock = await lockFile(real, { consequence: 'two stores on one database would each miss the series the other adds, and read them with the wrong retention' });
    } catch (err) {
      if (!(err instanceof LockUnavailable)) throw err;
      // a full disk: the store must still start, to serve reads and write once space returns
      this.ctx.log.warn('starting without the database lock: a second store on this file would not be refused', { error: err });
    }
  }

  private async startLocked(): Promise<void> {
    this.worker = startModuleWorker(import.meta.url, 'writer-worker');
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => {
      this.ctx.stats.addError('worker_failed');
      this.ctx.log.error('sqlite writer failed', { error: err });
      this.workerFailed?.(err);
    });
    await this.request({ type: 'open', path: this.o.path, synchronous: this.o.synchronous }, 'opened');
    // the index is read at start only, a slice per turn of the event loop; queries use the read threads
    this.reader = new Database(this.o.path, { readonly: true, fileMustExist: true });
    this.reader.pragma('busy_timeout = 5000');
    const readSeries = this.reader.prepare('SELECT id, name, archives, xff, method FROM series');
    this.readers = new ReadPool(this.o.path, (err) => {
      this.ctx.stats.addError('read_worker_failed');
      this.ctx.log.error('sqlite read thread failed', { error: err });
    });
    // the writer reads the series table into its own map while this thread reads it for the index
    await Promise.all([this.request({ type: 'load' }, 'loaded'), this.loadSeries(readSeries), this.readers.warm()]);
    this.reader.close();
    this.reader = undefined;
    this.timer = setInterval(() => this.commit(), this.o.commitIntervalMs);
    this.timer.unref();
    if (this.o.retentionSweepSecs > 0) {
      this.sweepTimer = setInterval(() => this.worker?.postMessage({ type: 'sweep', now: this.ctx.now(), maxSeries: 200 } satisfies ToWorker), this.o.retentionSweepSecs * 1000);
      this.sweepTimer.unref();
    }
    this.ctx.bus.on('reload', this.onReload);
  }

  async stop(): Promise<void> {
    this.ctx.bus.off('reload', this.onReload);
    clearInterval(this.timer);
    clearInterval(this.sweepTimer);
    this.closing = true;
    // write out everything accepted; a failed commit puts its points back into the chunk, and is
    // tried again after a pause that grows (a full disk failed ~5,000 times a second here, a core
    // busy for the whole stop timeout) until STOP_RETRY_MS have passed without a commit going through
    let pause = 50;
    let failingSince: number | undefined;
    while (this.worker && (this.inflight.size > 0 || this.chunk.names.length > 0 || this.chunk.newSeries.length > 0)) {
      if (this.chunk.names.length > 0 || this.chunk.newSeries.length > 0) this.commit(true);
      const before = this.commits;
      await new Promise<void>((r) => this.waiters.set(Math.max(...this.inflight.keys()), r));
      if (this.commits > before) {
        failingSince = undefined;
        pause = 50;
        continue;
      }
      failingSince ??= performance.now();
      if (performance.now() - failingSince >= STOP_RETRY_MS) {
        const lost = this.chunk.names.length;
        this.ctx.stats.addDropped('stop_write_failed', lost);
        this.ctx.log.error(`stopping: the database refused every commit for ${STOP_RETRY_MS / 1000} s; ${lost} accepted points are not stored`, { path: this.o.path });
        this.chunk = this.newChunk();
        this.queued = 0;
        break;
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 1000);
    }
    if (this.worker) {
      await this.request({ type: 'close' }, 'closed');
      await this.worker.terminate();
      this.worker = undefined;
    }
    // reads sent before this finish first: each thread closes after the messages it has
    const readers = this.readers;
    this.readers = undefined;
    await readers?.close();
    await this.unlock?.();
    this.unlock = undefined;
  }

  write(batch: PointBatch): void {
    const n = batch.length;
    if (this.queued + n > this.o.queueMaxPoints || this.closing) {
      this.ctx.stats.addDropped(this.closing ? 'stopping' : 'queue_full', n);
      this.ctx.log.limited('queue_full', 'sqlite queue full: points dropped');
      return;
    }
    const c = this.chunk;
    let badTime = 0;
    for (let i = 0; i < n; i++) {
      const t = batch.times[i]!;
      // past what a whisper timestamp holds (2106): an archive slot of it would be a live slot of
      // today's, so storing it would overwrite a real point; the whisper store drops it the same way
      if (!(t <= MAX_TIMESTAMP)) {
        badTime++;
        continue;
      }
      const name = batch.names[i]!;
      const meta = this.meta.get(name);
      if (!meta) this.plan(name, c);
      else if (meta.id === undefined) this.defineIn(c, name, meta);
      const v = batch.values[i]!;
      let p = c.pending.get(name);
      if (!p) c.pending.set(name, (p = []));
      p.push(c.names.length);
      c.names.push(name);
      c.times.push(t);
      c.values.push(v);
    }
    if (badTime > 0) this.ctx.stats.addDropped('bad_timestamp', badTime);
    this.queued += n - badTime;
    this.checkPressure();
    if (c.names.length >= CHUNK_POINTS) this.commit();
  }

  defineSeries(name: string, spec: SeriesSpec): void {
    if (this.meta.has(name) || !isAggregationMethod(spec.aggregationMethod)) return;
    const archives = validateArchiveList(spec.archives.map(([s, p]) => [s, p] as ArchiveSpec)).map((a) => [a[0], a[1]] as ArchiveSpec);
    const layout = this.layouts.of(JSON.stringify(archives), spec.xFilesFactor, spec.aggregationMethod);
    this.remember(name, undefined, layout);
    this.defineIn(this.chunk, name, this.meta.get(name)!);
    this.ctx.stats.count('series_created');
  }

  specFor(name: string): SeriesSpec {
    return this.rules.match(name);
  }

  async find(pattern: string, opts?: FindOptions): Promise<FindNode[]> {
    if (pattern.includes(';') && !pattern.startsWith('_tagged.')) {
      // graphite-web looks a tagged "pattern" up as one exact series (the tree only holds its hashed path)
      const n = normalizeSeriesName(pattern);
      return !isBadName(n) && this.meta.has(n) ? [{ path: n, isLeaf: true }] : [];
    }
    return this.tree.findAsync(pattern, opts);
  }

  async fetch(names: readonly string[], from: number, until: number, opts?: FetchOptions): Promise<SeriesData[]> {
    const now = Math.trunc(opts?.now ?? this.ctx.now());
    const plans: FetchPlan[] = [];
    const reads: RangeRead[] = [];
    const maxPoints = opts?.maxPoints ?? Infinity;
    let points = 0;
    for (const name of names) {
      // graphite-web reads a tagged series' file by the tree path find lists too; it answers under that path
      const series = this.meta.has(name) ? name : (this.byTreePath.get(name) ?? name);
      const m = this.meta.get(series);
      if (!m) continue;
      const w = fetchWindow(m.header, from, until, now);
      if (!w) continue;
      const grid = fetchGrid(w.archive, w.from, w.until);
      // refused before anything is allocated: the grids are known from the retention alone
      points += grid.length;
      if (points > maxPoints) throw new FetchTooLarge(points);
      let read: number | Error = -1;
      // stopped: the rows cannot be read, and an empty grid would pass for a series without data
      if (m.id !== undefined && !this.readers) read = new Error('the store is stopped');
      else if (m.id !== undefined) {
        read = reads.length;
        reads.push({ sid: m.id, archive: m.header.archives.indexOf(w.archive), step: grid.step, points: w.archive.points, start: grid.start, length: grid.length });
      }
      // taken before the rows are read: a chunk committed meanwhile is then in one or the other
      // (the commit is acknowledged before it leaves `inflight`, and the read starts after this)
      plans.push({ name, grid, read, m, cached: this.cachedPoints(series) });
    }
    opts?.signal?.throwIfAborted();
    const got = reads.length > 0 && this.readers ? await this.readers.read(reads, opts?.signal) : [];
    // given up meanwhile: the reads not done failed for that, not for the database
    opts?.signal?.throwIfAborted();
    const out: SeriesData[] = [];
    for (const { name, grid, read, m, cached } of plans) {
      const values = read instanceof Error ? read : read < 0 ? new Float64Array(grid.length).fill(NaN) : got[read]!;
      if (values instanceof Error) {
        this.ctx.stats.addError('read_failed');
        this.ctx.log.limited('read_failed', 'sqlite read failed: series skipped', { series: name, error: values });
        continue;
      }
      const h = m.header;
      mergeCached(cached, grid.start, grid.step, values, h.aggregationMethod, h.archives[0]!.secondsPerPoint);
      out.push({ name, start: grid.start, end: grid.end, step: grid.step, values, consolidation: h.aggregationMethod, xFilesFactor: h.xFilesFactor });
    }
    return out;
  }

  stats(): Record<string, number> {
    return {
      series: this.meta.size,
      queue_points: this.queued,
      commits: this.commits,
      commit_ms_avg: this.commits ? this.commitMs / this.commits : 0,
      commit_ms_last: this.lastCommitMs,
    };
  }

  // ---- internals ------------------------------------------------------------------------------

  private cachedPoints(name: string): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const seqs = [...this.inflight.keys()].sort((a, b) => a - b);
    const add = (c: { pending: Pending; times: number[]; values: number[] }): void => {
      for (const i of c.pending.get(name) ?? []) out.push([Math.trunc(c.times[i]!), c.values[i]!]);
    };
    for (const s of seqs) add(this.inflight.get(s)!);
    add(this.chunk);
    return out;
  }

  private plan(name: string, chunk: Chunk): void {
    const rule = this.rules.match(name);
    const archives = validateArchiveList(rule.archives).map((a) => [a[0], a[1]] as ArchiveSpec);
    const layout = this.layouts.of(JSON.stringify(archives), rule.xFilesFactor, rule.aggregationMethod);
    this.remember(name, undefined, layout);
    this.defineIn(chunk, name, this.meta.get(name)!);
    this.ctx.stats.count('series_created');
  }

  /**
   * The index from the `series` table, a slice of rows per turn of the event loop, reporting
   * progress after each (a database of millions of series takes seconds to read).
   */
  private async loadSeries(query: Database.Statement): Promise<void> {
    let n = 0;
    for (const r of query.iterate() as IterableIterator<SeriesRow>) {
      this.remember(r.name, r.id, this.layouts.of(r.archives, r.xff, r.method as AggregationMethod));
      if (++n % LOAD_ROWS_PER_TURN === 0) {
        this.ctx.startProgress?.();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  private remember(name: string, id: number | undefined, layout: Layout): void {
    this.meta.set(name, { id, header: layout.header, archives: layout.archives });
    // carbon with tags enabled registers every series it creates, plain names too (found by `name`)
    this.tags.add(name);
    // tagged series show in the tree where graphite-web shows their whisper files
    if (isTaggedSeries(name)) {
      const path = taggedTreePath(name);
      this.tree.add(path);
      this.byTreePath.set(path, name);
    } else this.tree.add(name);
  }

  private newChunk(): Chunk {
    return { names: [], times: [], values: [], newSeries: [], defined: new Set(), pending: new Map() };
  }

  /**
   * A series without an id yet is defined in every chunk that carries its points (or, defined
   * alone, in the next one) until a commit gives it one: the chunk that defined it first may be
   * rolled back (disk full) after a later one was sent, and the writer skips what it has.
   */
  private defineIn(chunk: Chunk, name: string, meta: SeriesMeta): void {
    if (chunk.defined.has(name)) return;
    chunk.defined.add(name);
    chunk.newSeries.push({ name, archives: meta.archives, xff: meta.header.xFilesFactor, method: meta.header.aggregationMethod });
  }

  /** Sends the open chunk to the writer (at most two in flight, unless stopping). */
  private commit(force = false): void {
    const c = this.chunk;
    if (!this.worker || (c.names.length === 0 && c.newSeries.length === 0)) return;
    if (!force && this.inflight.size >= 2) return;
    const seq = ++this.seq;
    this.chunk = this.newChunk();
    this.inflight.set(seq, { pending: c.pending, times: c.times, values: c.values, points: c.names.length, newSeries: c.newSeries });
    const times = Float64Array.from(c.times);
    const values = Float64Array.from(c.values);
    const msg: ToWorker = { type: 'apply', seq, now: this.ctx.now(), newSeries: c.newSeries, names: c.names, times, values };
    this.worker.postMessage(msg, [times.buffer, values.buffer]);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'applied': {
        for (const { name, id } of m.created) {
          const meta = this.meta.get(name);
          if (meta) meta.id = id;
        }
        this.settle(m.seq);
        this.commits++;
        this.commitMs += m.ms;
        this.lastCommitMs = m.ms;
        this.ctx.stats.count('points_written', m.written);
        if (m.tooOld) this.ctx.stats.addDropped('too_old', m.tooOld);
        if (m.unknown) this.ctx.stats.addDropped('unknown_series', m.unknown);
        if (this.inflight.size < 2 && this.chunk.names.length > 0 && !this.closing) this.commit();
        break;
      }
      case 'error':
        this.ctx.stats.addError(m.code === 'SQLITE_FULL' ? 'disk_full' : 'write_failed');
        this.ctx.log.limited(`write_${m.code}`, 'sqlite write failed', { error: m.message });
        if (m.seq >= 0) this.retry(m.seq);
        break;
      case 'swept':
        if (m.deleted) this.ctx.stats.count('points_expired', m.deleted);
        break;
      default: {
        const w = this.waiters.get(-1);
        this.waiters.delete(-1);
        w?.();
      }
    }
  }

  /** A failed transaction is rolled back as a whole: its points go back into the open chunk. */
  private retry(seq: number): void {
    const f = this.inflight.get(seq);
    if (!f) return;
    this.inflight.delete(seq);
    const c = this.chunk;
    for (const [name, idx] of f.pending) {
      let p = c.pending.get(name);
      if (!p) c.pending.set(name, (p = []));
      for (const i of idx) {
        p.push(c.names.length);
        c.names.push(name);
        c.times.push(f.times[i]!);
        c.values.push(f.values[i]!);
      }
    }
    // every series the rolled-back chunk defined, points or not (import-whisper defines series
    // whose files hold none), unless a later commit has given it an id meanwhile
    for (const s of f.newSeries) {
      const meta = this.meta.get(s.name);
      if (meta && meta.id === undefined) this.defineIn(this.chunk, s.name, meta);
    }
    this.waiters.get(seq)?.();
    this.waiters.delete(seq);
  }

  private settle(seq: number): void {
    const f = this.inflight.get(seq);
    if (!f) return;
    this.inflight.delete(seq);
    this.queued -= f.points;
    this.checkPressure();
    const w = this.waiters.get(seq);
    this.waiters.delete(seq);
    w?.();
  }

  private checkPressure(): void {
    const fill = (100 * this.queued) / this.o.queueMaxPoints;
    if (!this.pressure && fill >= this.o.pressureHighPercent) {
      this.pressure = true;
      this.ctx.setPressure(true);
    } else if (this.pressure && fill <= this.o.pressureLowPercent) {
      this.pressure = false;
      this.ctx.setPressure(false);
    }
  }

  private request(msg: ToWorker, _reply: 'opened' | 'loaded' | 'closed'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (m: FromWorker) => {
        if (m.type === 'error' && m.seq === -1) reject(new Error(`${this.o.path}: ${m.message}`));
      };
      this.worker!.on('message', onError);
      this.workerFailed = reject;
      this.waiters.set(-1, () => {
        this.worker?.off('message', onError);
        this.workerFailed = undefined;
        resolve();
      });
      this.worker!.postMessage(msg);
    });
  }

  private readonly onReload = (): void => {
    StorageRules.load({
      schemas: this.o.schemas,
      aggregation: this.o.aggregation,
      ...(this.o.schemasFile ? { schemasFile: this.o.schemasFile } : {}),
      ...(this.o.aggregationFile ? { aggregationFile: this.o.aggregationFile } : {}),
    }).then(
      (r) => {
        this.rules = r;
        this.ctx.log.info('storage rules reloaded (they apply to new series only)');
      },
      (err: Error) => {
        this.ctx.stats.addError('rules_reload');
        this.ctx.log.error('storage rules reload failed; the previous rules stay', { error: err });
      },
    );
  };
}

