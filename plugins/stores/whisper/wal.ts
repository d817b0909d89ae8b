import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Write-ahead log of accepted points, so that a kill -9 loses at most the points accepted in the
 * last flush interval. Segments `<seq>.wal` (seq zero-padded, increasing) hold records:
 *   u32 byteLength | u32 count | count × (u16 nameBytes | name utf-8 | f64 time | f64 value)
 * A record cut short by a crash ends the replay of its segment. A segment is deleted once every
 * point it holds is on disk (the cache tracks the oldest segment each series still needs).
 */
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
    let pos = 0;
    let points = 0;
    while (pos + 8 <= buf.length) {
      const len = buf.readUInt32LE(pos);
      const end = pos + 4 + len;
      if (len < 4 || end > buf.length) return { points, torn: true };
      const count = buf.readUInt32LE(pos + 4);
      let p = pos + 8;
      for (let i = 0; i < count; i++) {
        if (p + 2 > end) return { points, torn: true };
        const nl = buf.readUInt16LE(p);
        if (p + 2 + nl + 16 > end) return { points, torn: true };
        const name = buf.toString('utf8', p + 2, p + 2 + nl);
        const t = buf.readDoubleLE(p + 2 + nl);
        const v = buf.readDoubleLE(p + 10 + nl);
        p += 18 + nl;
        onPoint(name, t, v);
        points++;
      }
      pos = end;
    }
    return { points, torn: pos !== buf.length };
  }

  async open(seq: number): Promise<void> {
    this.seq = seq;
    this.fh = await open(this.file(seq), 'a');
  }

  /** Starts a record; append() adds points to it; endRecord() closes it. All synchronous. */
  beginRecord(): void {
    this.ensure(8);
    this.recordStart = this.curPos;
    this.recordCount = 0;
    this.curPos += 8;
  }

  append(name: string, time: number, value: number): void {
    const max = name.length * 3 + 18;
    if (this.curPos + max > this.cur.length) {
      // the record continues in a new chunk: finish it here, start another
      this.endRecord();
      this.seal();
      if (max + 8 > this.cur.length) this.cur = Buffer.allocUnsafe(max + 8);
      this.beginRecord();
    }
    const nl = this.cur.write(name, this.curPos + 2, 'utf8');
    this.cur.writeUInt16LE(nl, this.curPos);
    this.cur.writeDoubleLE(time, this.curPos + 2 + nl);
    this.cur.writeDoubleLE(value, this.curPos + 10 + nl);
    this.curPos += 18 + nl;
    this.recordCount++;
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
   * writes already queued for it. Returns the closed segment's number. Points tagged with the old
   * number but flushed after the switch land in the new segment: that only keeps the old one a
   * little longer than needed.
   */
  async rotate(): Promise<number> {
    await this.flush();
    const oldSeq = this.seq;
    const oldFh = this.fh;
    const next = await open(this.file(oldSeq + 1), 'a');
    this.fh = next;
    this.seq = oldSeq + 1;
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
