import { isBadName, type NameCache, type SeriesIds } from '../../../core/index.js';
import type { CarbonLineParser } from './line-parser.js';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT = 2 ** 53;

/**
 * Raw name bytes → canonical name and series id, looked up without making a string. Why: the
 * string parser slices each name out of the decoded chunk and hashes the slice, which made name
 * lookup the largest single cost of ingest (and one short-lived string per line). Here the hash is
 * computed while the bytes are scanned anyway, and a hit is confirmed by comparing bytes.
 * Open addressing, linear probing, at most half full; bounded: when full it starts over.
 */
export class RawNameTable {
  private mask = 0;
  private hashes = new Int32Array(0);
  /** entry index + 1 per slot; 0 is empty */
  private slots = new Int32Array(0);
  private keys: Buffer[] = [];
  private names: string[] = [];
  private ids: number[] = [];

  constructor(private readonly maxEntries = 1 << 20) {
    this.reset(1 << 12);
  }

  get size(): number {
    return this.names.length;
  }

  private reset(capacity: number): void {
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.slots = new Int32Array(capacity);
    this.keys = [];
    this.names = [];
    this.ids = [];
  }

  /** Entry index of buf[start, end) with hash h, or -1. */
  find(buf: Buffer, start: number, end: number, h: number): number {
    const len = end - start;
    let slot = h & this.mask;
    for (;;) {
      const e = this.slots[slot]! - 1;
      if (e < 0) return -1;
      if (this.hashes[slot] === h) {
        const k = this.keys[e]!;
        if (k.length === len) {
          let q = 0;
          while (q < len && k[q] === buf[start + q]) q++;
          if (q === len) return e;
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  name(e: number): string {
    return this.names[e]!;
  }

  id(e: number): number {
    return this.ids[e]!;
  }

  add(buf: Buffer, start: number, end: number, h: number, name: string, id: number): number {
    if (this.names.length >= this.maxEntries) this.reset(this.slots.length);
    if ((this.names.length + 1) * 2 > this.slots.length) this.grow();
    const e = this.names.length;
    this.keys.push(Buffer.from(buf.subarray(start, end)));
    this.names.push(name);
    this.ids.push(id);
    this.place(h, e);
    return e;
  }

  private place(h: number, e: number): void {
    let slot = h & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = e + 1;
    this.hashes[slot] = h;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const capacity = oldSlots.length * 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity);
    this.hashes = new Int32Array(capacity);
    for (let s = 0; s < oldSlots.length; s++) if (oldSlots[s] !== 0) this.place(oldHashes[s]!, oldSlots[s]! - 1);
  }
}

export interface BytePointSink {
  point(name: string, value: number, time: number, id: number): void;
}

/**
 * Carbon plaintext lines straight from the bytes of a TCP read. A line of the common shape
 * `name value timestamp` (single spaces, printable ASCII name, plain decimal numbers, LF or
 * CRLF) is parsed here; any other line is decoded and given to the string parser, which applies
 * every rule and reason. The string parser's own fast path accepts exactly these lines too, with
 * the same numbers and names, so the result is the same either way (tested line by line).
 */
export class ByteLineParser {
  private readonly num = new Float64Array(1);

  constructor(
    private readonly maxLineBytes: number,
    private readonly table: RawNameTable,
    private readonly names: NameCache,
    private readonly series: SeriesIds | undefined,
    private readonly fallback: CarbonLineParser,
    private readonly sink: BytePointSink,
  ) {}

  /** Every line in buf[start, end): lines end at LF; the last one may end at `end`. */
  parse(buf: Buffer, start: number, end: number, now: number): void {
    let pos = start;
    while (pos < end) {
      const next = this.fastLine(buf, pos, end, now);
      if (next >= 0) {
        pos = next;
        continue;
      }
      let nl = buf.indexOf(10, pos);
      if (nl < 0 || nl > end) nl = end;
      const line = buf.toString('utf8', pos, nl);
      this.fallback.parseLine(line, 0, line.length, now);
      pos = nl + 1;
    }
  }

  /** Parses one common-shape line at pos: returns where the next line starts, or -1. */
  private fastLine(buf: Buffer, pos: number, end: number, now: number): number {
    let i = pos;
    let h = FNV_OFFSET;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b <= 32 || b >= 127) break;
      h = Math.imul(h ^ b, FNV_PRIME);
    }
    const nameEnd = i;
    if (nameEnd === pos || i >= end || buf[i] !== 32) return -1;
    i = this.number(buf, i + 1, end);
    if (i < 0 || i >= end || buf[i] !== 32) return -1;
    const value = this.num[0]!;
    i = this.number(buf, i + 1, end);
    if (i < 0) return -1;
    const time = this.num[0]!;
    if (i < end && buf[i] === 13) i++;
    if (i < end && buf[i] !== 10) return -1;
    // the line's length as the string parser counts it: everything before the LF, CR included
    if (i - pos > this.maxLineBytes) return -1;
    let e = this.table.find(buf, pos, nameEnd, h);
    if (e < 0) {
      const name = this.names.resolve(buf.toString('latin1', pos, nameEnd));
      if (isBadName(name)) return -1; // the string parser rejects it with its reason
      e = this.table.add(buf, pos, nameEnd, h, name, this.series ? this.series.idOf(name) : -1);
    }
    this.sink.point(this.table.name(e), value, Math.trunc(time) === -1 ? now : time, this.table.id(e));
    return i + 1;
  }

  /**
   * `[+-]digits[.digits]` at i (Python's float() of it, via Clinger's exact fast path) into
   * num[0]; returns the index after it, or -1 for anything else (left to the string parser).
   */
  private number(buf: Buffer, i: number, end: number): number {
    let neg = false;
    let b = i < end ? buf[i]! : 0;
    if (b === 43 || b === 45) {
      neg = b === 45;
      i++;
    }
    let mant = 0;
    let digits = 0;
    let frac = 0;
    let dot = false;
    for (; i < end; i++) {
      b = buf[i]!;
      if (b >= 48 && b <= 57) {
        mant = mant * 10 + (b - 48);
        digits++;
        if (dot) frac++;
      } else if (b === 46 && !dot) dot = true;
      else break;
    }
    if (digits === 0 || mant >= MAX_EXACT || frac > 22) return -1;
    if (i < end && b !== 32 && b !== 10 && b !== 13) return -1;
    const v = frac === 0 ? mant : mant / POW10[frac]!;
    this.num[0] = neg ? -v : v;
    return i;
  }
}
