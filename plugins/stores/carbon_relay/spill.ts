/**
 * The disk queue of one destination: a directory of segment files, each holding the points of one
 * spill as plaintext lines. Plaintext because an operator can read or replay a segment with cat
 * and nc, and because the relay decodes it with a split.
 *
 * File names are `<seq>-<points>.lines` so the queue's size in points is known from a directory
 * listing at start-up, without reading the files. A segment is written to a `.tmp` name and then
 * renamed, so a crash leaves either a whole segment or a `.tmp` file that the next start deletes.
 * Beyond `maxBytes` the oldest segments are deleted and their points counted as dropped.
 *
 * I/O is synchronous on purpose: spills happen only while a destination is down or at stop, the
 * segments are small (one memory queue overflow each), and order stays trivially FIFO.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chunk } from './chunk.js';
import { encodePlaintext } from './encode.js';

interface Segment {
  readonly seq: number;
  readonly points: number;
  readonly bytes: number;
  readonly file: string;
}

const SEGMENT = /^(\d{12})-(\d+)\.lines$/;

export class SpillQueue {
  private readonly segments: Segment[] = [];
  private nextSeq = 0;
  points = 0;
  bytes = 0;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    /** called with the number of points lost when the bound forces the oldest segment out */
    private readonly onDrop: (points: number) => void,
  ) {}

  /** Creates the directory and indexes segments left by an earlier run. */
  open(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir).sort()) {
      const m = SEGMENT.exec(f);
      const file = join(this.dir, f);
      if (!m) {
        if (f.endsWith('.tmp')) unlinkSync(file);
        continue;
      }
      const seg = { seq: Number(m[1]), points: Number(m[2]), bytes: statSync(file).size, file };
      this.segments.push(seg);
      this.points += seg.points;
      this.bytes += seg.bytes;
      this.nextSeq = seg.seq + 1;
    }
  }

  get empty(): boolean {
    return this.segments.length === 0;
  }

  /** Writes the chunks as one segment; returns the number of points written. */
  push(chunks: readonly Chunk[]): number {
    let points = 0;
    const parts: Buffer[] = [];
    for (const c of chunks) {
      if (c.length === 0) continue;
      parts.push(encodePlaintext(c));
      points += c.length;
    }
    if (points === 0) return 0;
    const data = Buffer.concat(parts);
    if (data.length > this.maxBytes) {
      this.onDrop(points);
      return 0;
    }
    while (this.bytes + data.length > this.maxBytes && this.segments.length > 0) this.dropOldest();
    const seq = this.nextSeq++;
    const file = join(this.dir, `${String(seq).padStart(12, '0')}-${points}.lines`);
    writeFileSync(`${file}.tmp`, data);
    renameSync(`${file}.tmp`, file);
    this.segments.push({ seq, points, bytes: data.length, file });
    this.points += points;
    this.bytes += data.length;
    return points;
  }

  /** Reads and removes the oldest segment, as chunks of at most `chunkPoints`. */
  shift(chunkPoints: number): Chunk[] {
    const seg = this.segments.shift();
    if (!seg) return [];
    this.points -= seg.points;
    this.bytes -= seg.bytes;
    let text: string;
    try {
      text = readFileSync(seg.file, 'utf8');
    } catch {
      this.onDrop(seg.points);
      return [];
    }
    unlinkSync(seg.file);
    const out: Chunk[] = [];
    let c = new Chunk(chunkPoints);
    let start = 0;
    while (start < text.length) {
      let nl = text.indexOf('\n', start);
      if (nl < 0) nl = text.length;
      const s1 = text.indexOf(' ', start);
      const s2 = s1 < 0 ? -1 : text.indexOf(' ', s1 + 1);
      if (s2 > 0 && s2 < nl) {
        if (c.full()) {
          out.push(c);
          c = new Chunk(chunkPoints);
        }
        c.push(text.slice(start, s1), Number(text.slice(s1 + 1, s2)), Number(text.slice(s2 + 1, nl)));
      }
      start = nl + 1;
    }
    if (c.length > 0) out.push(c);
    return out;
  }

  private dropOldest(): void {
    const seg = this.segments.shift()!;
    this.points -= seg.points;
    this.bytes -= seg.bytes;
    try {
      unlinkSync(seg.file);
    } catch {
      // already gone: the points are lost either way and counted below
    }
    this.onDrop(seg.points);
  }
}
