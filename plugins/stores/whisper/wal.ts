import { copyFile, mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Write-ahead log of accepted points, so that a kill -9 loses at most the points accepted in the
 * last flush interval. Segments `<seq>.wal` (seq zero-padded, increasing) start with MAGIC and
 * hold records:
 *   u32 byteLength | u32 count | count × entry
 *   entry = u32 id | f64 time | f64 value                      a point of series `id`
 *         | u32 (0x80000000 | id) | u16 nameBytes | name utf-8   defines `id` (once per segment)
 * Why ids: encoding the name with every point was ~12 % of the ingest thread's CPU; an id is
 * defined once per segment (each segment is replayable alone) and a point costs 20 bytes.
 * Segments without MAGIC (written by 0.1.x) use the older entry `u16 nameBytes | name | f64 | f64`
 * and are still replayed. A record cut short by a crash ends the replay of its segment. A segment
 * is deleted once every point it holds is on disk (the cache tracks the oldest segment each series
 * still needs).
 *
 * A segment whose write or fsync failed (a full disk), or whose file was removed or moved, is
 * never written again: it may end in half a record, and replay stops there. The store then starts
 * a new segment with every point of its cache (`restart`), so nothing accepted depends on the
 * broken one.
 */
const MAGIC = Buffer.from('CBOWAL2\n', 'latin1');
const DEFINE = 0x80000000;
const POINT_BYTES = 20;
/** records are cut at 64 KiB chunks; a single very long name can make one larger, never this large */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/** The file being appended to. `failed`: a write, fsync or link check failed; it takes no more writes. */
interface Segment {
  readonly fh: FileHandle;
  readonly seq: number;
  readonly ino: number;
  failed?: Error;
  /** replaced by restart(): everything it held is in the new segment, its failures no longer matter */
  replaced?: boolean;
}

/** What replay() found in one segment. */
export interface ReplayResult {
  points: number;
  /** the last record was cut short (a crash while writing): expected, nothing else lost */
  torn: boolean;
  /** a damaged record before the end: the bytes from `damagedAt` on were not replayed */
  damagedAt?: number;
  skippedBytes?: number;
}

export class WriteAheadLog {
  private seg: Segment | undefined;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private cur: Buffer = Buffer.allocUnsafe(64 * 1024);
  /**
   * `cur` again, for the point records: a DataView's setters compile to plain stores, where
   * Buffer's writeDoubleLE copies byte by byte (~0.8 s of the large load's event-loop time)
   */
  private view = viewOf(this.cur);
  private curPos = 0;
  private recordStart = -1;
  private recordCount = 0;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  /** the first failure since the last restart(): some accepted points may be missing from the WAL */
  private lost: Error | undefined;
  /** the datasync in progress, if any: a second sync() waits for it rather than trusting it */
  private syncing: Promise<void> | undefined;
  /** series id of each name defined in the current segment */
  private ids = new Map<string, number>();
  /** sequence number of the segment being appended to */
  seq = 0;
  bytesWritten = 0;

  constructor(private readonly dir: string) {}

  /** Lists existing segments (oldest first); call before open(). */
  async segments(): Promise<number[]> {
    await mkdir(this.dir, { recursive: true });
    const out: number[] = [];
    for (const f of await readdir(this.dir)) {
      const m = /^(\d{12})\.wal$/.exec(f);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Replays one segment. `between`, called after each record, may return a promise to wait for
   * (the store writes its cache out there when a large WAL would overrun its budget).
   */
  async replay(seq: number, onPoint: (name: string, time: number, value: number) => void, between?: () => Promise<void> | undefined): Promise<ReplayResult> {
    const buf = await readFile(this.file(seq));
    const stopped = (pos: number, points: number): ReplayResult => {
      if (isTornTail(buf, pos)) return { points, torn: true };
      return { points, torn: false, damagedAt: pos, skippedBytes: buf.length - pos };
    };
    const v2 = buf.length >= MAGIC.length && buf.subarray(0, MAGIC.length).equals(MAGIC);
    const names: string[] = [];
    let pos = v2 ? MAGIC.length : 0;
    let points = 0;
    while (pos + 8 <= buf.length) {
      const len = buf.readUInt32LE(pos);
      const end = pos + 4 + len;
      if (len < 4 || end > buf.length) return stopped(pos, points);
      const count = buf.readUInt32LE(pos + 4);
      let p = pos + 8;
      for (let i = 0; i < count; i++) {
        if (v2) {
          if (p + 4 > end) return stopped(pos, points);
          const ref = buf.readUInt32LE(p);
          if (ref >= DEFINE) {
            if (p + 6 > end) return stopped(pos, points);
            const nl = buf.readUInt16LE(p + 4);
            if (p + 6 + nl > end) return stopped(pos, points);
            names[ref - DEFINE] = buf.toString('utf8', p + 6, p + 6 + nl);
            p += 6 + nl;
            continue;
          }
          const name = names[ref];
          // an id never defined cannot come from our writer: treat the rest as damaged
          if (p + POINT_BYTES > end || name === undefined) return stopped(pos, points);
          onPoint(name, buf.readDoubleLE(p + 4), buf.readDoubleLE(p + 12));
          p += POINT_BYTES;
        } else {
          if (p + 2 > end) return stopped(pos, points);
          const nl = buf.readUInt16LE(p);
          if (p + 2 + nl + 16 > end) return stopped(pos, points);
          const name = buf.toString('utf8', p + 2, p + 2 + nl);
          const t = buf.readDoubleLE(p + 2 + nl);
          const v = buf.readDoubleLE(p + 10 + nl);
          p += 18 + nl;
          onPoint(name, t, v);
        }
        points++;
      }
      pos = end;
      const wait = between?.();
      if (wait) await wait;
    }
    return pos === buf.length ? { points, torn: false } : stopped(pos, points);
  }

  /** Keeps a copy of a damaged segment for the operator (`<seq>.wal.damaged`); returns its path. */
  async keepDamaged(seq: number): Promise<string> {
    const to = `${this.file(seq)}.damaged`;
    await copyFile(this.file(seq), to);
    return to;
  }

  async open(seq: number): Promise<void> {
    this.seg = await this.openSegment(seq, 'a');
    this.seq = seq;
    this.startSegment();
  }

  /** A write, fsync or link check of the current segment failed: restart() before writing on. */
  get broken(): Error | undefined {
    return this.lost;
  }

  /**
   * False (and the segment marked failed) when the current segment's file is no longer at its
   * path: the data directory was removed or moved, and appending would go to a file nobody
   * replays.
   */
  async checkLinked(): Promise<boolean> {
    const seg = this.seg;
    if (!seg) return true;
    if (seg.failed) return false;
    let ino: number | undefined;
    try {
      ino = (await stat(this.file(seg.seq))).ino;
    } catch (err) {
      // only a missing path says the segment went; EIO, ESTALE or EACCES say nothing about it
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return true;
    }
    if (ino === seg.ino) return true;
    this.fail(seg, new Error(`WAL segment ${this.file(seg.seq)} was removed or moved`));
    return false;
  }

  /**
   * Replaces a broken segment with a new one (the directory made again if it is gone) and calls
   * `fill` synchronously as soon as it is current, so that the caller writes every point it
   * still needs into it before any later point is appended. Records buffered for the broken
   * segment are dropped: the caller's cache holds their points. The broken segment stays on
   * disk (what it holds up to the failure may be the only durable copy of some points) until the
   * caller deletes it once the new one is synced. Returns the new segment's number.
   */
  async restart(fill: () => void): Promise<number> {
    const old = this.seg;
    const seq = this.seq + 1;
    await mkdir(this.dir, { recursive: true });
    const seg = await this.openSegment(seq, 'w');
    // the broken segment's queued writes settle first (they skip: it failed)
    await this.writing;
    if (old) {
      old.replaced = true;
      void old.fh.close().catch(() => undefined);
    }
    this.chunks = [];
    this.chunkBytes = 0;
    this.curPos = 0;
    this.recordStart = -1;
    this.seg = seg;
    this.seq = seq;
    this.lost = undefined;
    this.startSegment();
    fill();
    return seq;
  }

  /**
   * Marks `seg` failed, and the WAL broken (records may be missing from it) unless restart()
   * has already replaced that segment: then everything it held is in the new one.
   */
  private fail(seg: Segment, err: Error): void {
    seg.failed ??= err;
    if (!seg.replaced) this.lost ??= err;
  }

  /**
   * While broken: drops the buffered records (their points are in the caller's cache, and the
   * next restart() writes them), so that a WAL that cannot be written does not hold every point
   * accepted until then in memory as well.
   */
  dropBuffered(): void {
    if (!this.lost || this.recordStart >= 0) return;
    this.seal();
    this.chunks = [];
    this.chunkBytes = 0;
  }

  private async openSegment(seq: number, flags: 'a' | 'w'): Promise<Segment> {
    const fh = await open(this.file(seq), flags);
    try {
      return { fh, seq, ino: (await fh.stat()).ino };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Starts a record; append() adds points to it; endRecord() closes it. All synchronous. */
  beginRecord(): void {
    this.ensure(8);
    this.recordStart = this.curPos;
    this.recordCount = 0;
    this.curPos += 8;
  }

  /**
   * The id of `name` in the current segment, defining it (inside the open record) on first use.
   * Callers keep the id with the segment number and ask again when `seq` has changed.
   */
  define(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.ids.size;
    this.ids.set(name, id);
    const max = name.length * 3 + 6;
    this.room(max);
    const nl = this.cur.write(name, this.curPos + 6, 'utf8');
    this.cur.writeUInt32LE((DEFINE | id) >>> 0, this.curPos);
    this.cur.writeUInt16LE(nl, this.curPos + 4);
    this.curPos += 6 + nl;
    this.recordCount++;
    return id;
  }

  /** Appends a point of a series defined in the current segment (see define). */
  appendPoint(id: number, time: number, value: number): void {
    if (this.curPos + POINT_BYTES > this.cur.length) this.room(POINT_BYTES);
    const v = this.view;
    const p = this.curPos;
    v.setUint32(p, id, true);
    v.setFloat64(p + 4, time, true);
    v.setFloat64(p + 12, value, true);
    this.curPos = p + POINT_BYTES;
    this.recordCount++;
  }

  /** append(define(name), …) for callers that do not keep ids. */
  append(name: string, time: number, value: number): void {
    this.appendPoint(this.define(name), time, value);
  }

  /** Makes room for `bytes` inside the open record: the record continues in a new chunk. */
  private room(bytes: number): void {
    if (this.curPos + bytes <= this.cur.length) return;
    this.endRecord();
    this.seal();
    if (bytes + 8 > this.cur.length) this.setCur(Buffer.allocUnsafe(bytes + 8));
    this.beginRecord();
  }

  endRecord(): void {
    if (this.recordStart < 0) return;
    if (this.recordCount === 0) {
      this.curPos = this.recordStart;
    } else {
      this.cur.writeUInt32LE(this.curPos - this.recordStart - 4, this.recordStart);
      this.cur.writeUInt32LE(this.recordCount, this.recordStart + 4);
    }
    this.recordStart = -1;
  }

  /**
   * Hands buffered records to the OS (one append). Rejects when the write fails; the segment is
   * then broken (see restart) and later writes to it are skipped, not attempted.
   */
  flush(): Promise<void> {
    this.seal();
    const seg = this.seg;
    if (this.chunks.length === 0 || !seg) return this.writing;
    // the chunks as they are, in one writev: concatenating them first cost ~0.3 s of event-loop
    // CPU per 6M points (a fresh multi-megabyte buffer every flush, faulted in page by page)
    const data = this.chunks;
    const bytes = this.chunkBytes;
    this.chunks = [];
    this.chunkBytes = 0;
    if (seg.failed) return this.writing;
    this.dirty = true;
    const job = this.writing.then(async () => {
      if (seg.failed) return;
      try {
        await writeAll(seg.fh, data);
        this.bytesWritten += bytes;
      } catch (err) {
        // broken even when a rotation has made another segment current: these records are lost
        this.fail(seg, err as Error);
        throw err;
      }
    });
    // the chain itself never rejects: one failed write must not fail every later one
    this.writing = job.catch(() => undefined);
    return job;
  }

  /** Flushes, then fsyncs the current segment (queued behind the writes, never blocking them). */
  async sync(): Promise<void> {
    await this.flush();
    // a datasync another caller started may have begun before our records were written
    while (this.syncing) await this.syncing.catch(() => undefined);
    const seg = this.seg;
    if (this.dirty && seg && !seg.failed) {
      this.dirty = false;
      const job = seg.fh.datasync().catch((err: Error) => {
        // after a failed fsync the kernel may have dropped the pages: the segment is not to be trusted
        this.fail(seg, err);
        throw err;
      });
      this.syncing = job;
      try {
        await job;
      } finally {
        if (this.syncing === job) this.syncing = undefined;
      }
    }
  }

  /**
   * Opens the next segment and makes it current; the old one is synced and closed behind the
   * writes already queued for it. Returns the closed segment's number. The switch is synchronous
   * once the new file is open: every record buffered before it goes to the old segment, every one
   * after it (with its own id definitions) to the new one.
   */
  async rotate(): Promise<number> {
    // a new segment would hide that records were lost: the caller must restart() instead
    if (this.lost) throw this.lost;
    const oldSeq = this.seq;
    const next = await this.openSegment(oldSeq + 1, 'a');
    void this.flush().catch(() => undefined); // a failure is the old segment's, reported below
    const old = this.seg;
    this.seg = next;
    this.seq = oldSeq + 1;
    this.startSegment();
    const closing = this.writing.then(async () => {
      if (!old) return;
      try {
        if (old.failed) {
          this.fail(old, old.failed); // failed by a sync that ran while it was still current
          throw old.failed;
        }
        await old.fh.datasync().catch((err: Error) => {
          this.fail(old, err);
          throw err;
        });
      } finally {
        await old.fh.close().catch(() => undefined);
      }
    });
    this.writing = closing.catch(() => undefined);
    await closing;
    return oldSeq;
  }

  async close(): Promise<void> {
    try {
      await this.sync();
    } finally {
      await this.seg?.fh.close().catch(() => undefined);
      this.seg = undefined;
    }
  }

  async remove(seq: number): Promise<void> {
    await unlink(this.file(seq)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  private file(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}.wal`);
  }

  /** A new segment: ids start over, the file starts with MAGIC. Called with the buffer empty. */
  private startSegment(): void {
    this.ids = new Map();
    this.ensure(MAGIC.length);
    MAGIC.copy(this.cur, this.curPos);
    this.curPos += MAGIC.length;
  }

  /** Moves the filled part of the current chunk to the queue. */
  private seal(): void {
    const open = this.recordStart >= 0;
    if (open) this.endRecord();
    if (this.curPos > 0) {
      const b = this.cur.subarray(0, this.curPos);
      this.chunks.push(b);
      this.chunkBytes += b.length;
      this.setCur(Buffer.allocUnsafe(this.cur.length));
      this.curPos = 0;
    }
    if (open) this.beginRecord();
  }

  private setCur(b: Buffer): void {
    this.cur = b;
    this.view = viewOf(b);
  }

  private ensure(bytes: number): void {
    if (this.curPos + bytes <= this.cur.length) return;
    const open = this.recordStart >= 0;
    if (open) throw new Error('WAL chunk overflow inside a record');
    this.seal();
    if (bytes > this.cur.length) this.setCur(Buffer.allocUnsafe(bytes));
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

/** Appends every byte of `bufs`: a write may take fewer bytes than asked (then the rest follows). */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    let n = (await fh.writev(rest)).bytesWritten;
    if (n <= 0) throw new Error('the WAL segment took no bytes');
    let i = 0;
    while (i < rest.length && n >= rest[i]!.length) n -= rest[i++]!.length;
    rest = i < rest.length ? [rest[i]!.subarray(n), ...rest.slice(i + 1)] : [];
  }
}

/**
 * A crash while appending leaves a prefix of the last record: its length runs past the end of
 * the file, or (a power loss on a filesystem that extends files before their data) the rest of
 * the file is zeros. Anything else that stops a replay is damage.
 */
function isTornTail(buf: Buffer, pos: number): boolean {
  if (pos + 4 > buf.length) return true;
  const len = buf.readUInt32LE(pos);
  // a length no writer of ours produces is damage, even where it runs past the end
  if (len <= MAX_RECORD_BYTES && pos + 4 + len > buf.length) return true;
  for (let i = pos; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
