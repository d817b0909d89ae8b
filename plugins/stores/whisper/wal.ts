import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
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
 */
const MAGIC = Buffer.from('CBOWAL2\n', 'latin1');
const DEFINE = 0x80000000;
const POINT_BYTES = 20;

export class WriteAheadLog {
  private fh: FileHandle | undefined;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private cur: Buffer = Buffer.allocUnsafe(64 * 1024);
  private curPos = 0;
  private recordStart = -1;
  private recordCount = 0;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
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

  /** Replays one segment; returns the number of points and whether its tail was torn. */
  async replay(seq: number, onPoint: (name: string, time: number, value: number) => void): Promise<{ points: number; torn: boolean }> {
    const buf = await readFile(this.file(seq));
    const v2 = buf.length >= MAGIC.length && buf.subarray(0, MAGIC.length).equals(MAGIC);
    const names: string[] = [];
    let pos = v2 ? MAGIC.length : 0;
    let points = 0;
    while (pos + 8 <= buf.length) {
      const len = buf.readUInt32LE(pos);
      const end = pos + 4 + len;
      if (len < 4 || end > buf.length) return { points, torn: true };
      const count = buf.readUInt32LE(pos + 4);
      let p = pos + 8;
      for (let i = 0; i < count; i++) {
        if (v2) {
          if (p + 4 > end) return { points, torn: true };
          const ref = buf.readUInt32LE(p);
          if (ref >= DEFINE) {
            if (p + 6 > end) return { points, torn: true };
            const nl = buf.readUInt16LE(p + 4);
            if (p + 6 + nl > end) return { points, torn: true };
            names[ref - DEFINE] = buf.toString('utf8', p + 6, p + 6 + nl);
            p += 6 + nl;
            continue;
          }
          const name = names[ref];
          // an id never defined cannot come from our writer: treat the rest as damaged
          if (p + POINT_BYTES > end || name === undefined) return { points, torn: true };
          onPoint(name, buf.readDoubleLE(p + 4), buf.readDoubleLE(p + 12));
          p += POINT_BYTES;
        } else {
          if (p + 2 > end) return { points, torn: true };
          const nl = buf.readUInt16LE(p);
          if (p + 2 + nl + 16 > end) return { points, torn: true };
          const name = buf.toString('utf8', p + 2, p + 2 + nl);
          const t = buf.readDoubleLE(p + 2 + nl);
          const v = buf.readDoubleLE(p + 10 + nl);
          p += 18 + nl;
          onPoint(name, t, v);
        }
        points++;
      }
      pos = end;
    }
    return { points, torn: pos !== buf.length };
  }

  async open(seq: number): Promise<void> {
    this.fh = await open(this.file(seq), 'a');
    this.seq = seq;
    this.startSegment();
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
    const c = this.cur;
    const p = this.curPos;
    c.writeUInt32LE(id, p);
    c.writeDoubleLE(time, p + 4);
    c.writeDoubleLE(value, p + 12);
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
    if (bytes + 8 > this.cur.length) this.cur = Buffer.allocUnsafe(bytes + 8);
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

  /** Hands buffered records to the OS (one positioned append). */
  flush(): Promise<void> {
    this.seal();
    if (this.chunks.length === 0 || !this.fh) return this.writing;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    const fh = this.fh;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done)).bytesWritten;
      this.bytesWritten += data.length;
    });
    return this.writing;
  }

  /** Flushes, then fsyncs the current segment (queued behind the writes, never blocking them). */
  async sync(): Promise<void> {
    await this.flush();
    if (this.dirty && this.fh) {
      this.dirty = false;
      const fh = this.fh;
      await fh.datasync();
    }
  }

  /**
   * Opens the next segment and makes it current; the old one is synced and closed behind the
   * writes already queued for it. Returns the closed segment's number. The switch is synchronous
   * once the new file is open: every record buffered before it goes to the old segment, every one
   * after it (with its own id definitions) to the new one.
   */
  async rotate(): Promise<number> {
    const oldSeq = this.seq;
    const next = await open(this.file(oldSeq + 1), 'a');
    void this.flush();
    const oldFh = this.fh;
    this.fh = next;
    this.seq = oldSeq + 1;
    this.startSegment();
    const closing = this.writing.then(async () => {
      await oldFh?.datasync();
      await oldFh?.close();
    });
    this.writing = closing;
    await closing;
    return oldSeq;
  }

  async close(): Promise<void> {
    await this.sync();
    await this.fh?.close();
    this.fh = undefined;
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
      this.cur = Buffer.allocUnsafe(this.cur.length);
      this.curPos = 0;
    }
    if (open) this.beginRecord();
  }

  private ensure(bytes: number): void {
    if (this.curPos + bytes <= this.cur.length) return;
    const open = this.recordStart >= 0;
    if (open) throw new Error('WAL chunk overflow inside a record');
    this.seal();
    if (bytes > this.cur.length) this.cur = Buffer.allocUnsafe(bytes);
  }
}
