/**
 * A small pickle ENCODER (protocol 2) for the two answers graphite-web's cluster client reads:
 * `/render?local=1&format=pickle` (a list of series dicts) and `/metrics/find?local=1&format=pickle`
 * (a list of node dicts). It writes only lists, tuples, dicts, str, int, float, bool and None, so a
 * peer's restricted unpickler (graphite-web's SafeUnpickler) accepts it. carbonado never decodes pickle
 * from HTTP: unpickling untrusted input is how graphite-web got CVE-2013-5093.
 */

export type PickleValue =
  | null
  | boolean
  | number
  | string
  | PickleInt
  | PickleFloat
  | PickleValue[]
  | PickleTuple
  | ReadonlyMap<string, PickleValue>
  | { readonly [k: string]: PickleValue };

/** Forces an integer opcode for a number (JavaScript numbers are otherwise written as floats unless integral). */
export class PickleInt {
  constructor(readonly value: number) {}
}

/** A Python tuple (a plain array is written as a list). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

const PROTO = 0x80, STOP = 0x2e, NONE = 0x4e, NEWTRUE = 0x88, NEWFALSE = 0x89;
const BININT = 0x4a, BININT1 = 0x4b, BININT2 = 0x4d, LONG1 = 0x8a, BINFLOAT = 0x47, BINUNICODE = 0x58;
const EMPTY_LIST = 0x5d, APPENDS = 0x65, EMPTY_DICT = 0x7d, SETITEMS = 0x75, MARK = 0x28;
const EMPTY_TUPLE = 0x29, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, TUPLE = 0x74;
/** pickle's own batching size for APPENDS/SETITEMS: keeps the unpickler's mark stack small */
const BATCH = 1000;

/** How numbers become opcodes: `auto` writes integral values as ints (Python's int), others as floats. */
export type NumberMode = 'auto' | 'float';

class Writer {
  private buf = Buffer.allocUnsafe(1 << 16);
  private n = 0;

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.n++] = b;
  }

  int(v: number): void {
    if (v >= 0 && v < 256) {
      this.ensure(2);
      this.buf[this.n++] = BININT1;
      this.buf[this.n++] = v;
    } else if (v >= 0 && v < 65536) {
      this.ensure(3);
      this.buf[this.n++] = BININT2;
      this.buf.writeUInt16LE(v, this.n);
      this.n += 2;
    } else if (v >= -0x80000000 && v <= 0x7fffffff) {
      this.ensure(5);
      this.buf[this.n++] = BININT;
      this.buf.writeInt32LE(v, this.n);
      this.n += 4;
    } else {
      // LONG1: little-endian two's complement, minimal length
      let big = BigInt(v);
      const bytes: number[] = [];
      while (true) {
        const b = Number(big & 0xffn);
        bytes.push(b);
        big >>= 8n;
        if ((big === 0n && (b & 0x80) === 0) || (big === -1n && (b & 0x80) !== 0)) break;
      }
      this.ensure(2 + bytes.length);
      this.buf[this.n++] = LONG1;
      this.buf[this.n++] = bytes.length;
      for (const b of bytes) this.buf[this.n++] = b;
    }
  }

  float(v: number): void {
    this.ensure(9);
    this.buf[this.n++] = BINFLOAT;
    this.buf.writeDoubleBE(v, this.n);
    this.n += 8;
  }

  str(s: string): void {
    const len = Buffer.byteLength(s);
    this.ensure(5 + len);
    this.buf[this.n++] = BINUNICODE;
    this.buf.writeUInt32LE(len, this.n);
    this.n += 4;
    this.n += this.buf.write(s, this.n);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

export function encodePickle(value: PickleValue, numbers: NumberMode = 'auto'): Buffer {
  const w = new Writer();
  w.byte(PROTO);
  w.byte(2);
  write(w, value, numbers);
  w.byte(STOP);
  return w.done();
}

function write(w: Writer, v: PickleValue, numbers: NumberMode): void {
  if (v === null || v === undefined) return w.byte(NONE);
  if (v === true) return w.byte(NEWTRUE);
  if (v === false) return w.byte(NEWFALSE);
  if (typeof v === 'number') {
    if (numbers === 'auto' && Number.isSafeInteger(v)) return w.int(v);
    return w.float(v);
  }
  if (typeof v === 'string') return w.str(v);
  if (v instanceof PickleInt) return w.int(v.value);
  if (v instanceof PickleFloat) return w.float(v.value);
  if (v instanceof PickleTuple) {
    const items = v.items;
    if (items.length === 0) return w.byte(EMPTY_TUPLE);
    if (items.length > 3) w.byte(MARK);
    for (const x of items) write(w, x, numbers);
    w.byte(items.length === 1 ? TUPLE1 : items.length === 2 ? TUPLE2 : items.length === 3 ? TUPLE3 : TUPLE);
    return;
  }
  if (Array.isArray(v)) {
    w.byte(EMPTY_LIST);
    for (let i = 0; i < v.length; i += BATCH) {
      w.byte(MARK);
      const end = Math.min(v.length, i + BATCH);
      for (let j = i; j < end; j++) write(w, v[j]!, numbers);
      w.byte(APPENDS);
    }
    return;
  }
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, PickleValue>);
  w.byte(EMPTY_DICT);
  for (let i = 0; i < entries.length; i += BATCH) {
    w.byte(MARK);
    const end = Math.min(entries.length, i + BATCH);
    for (let j = i; j < end; j++) {
      w.str(entries[j]![0]);
      write(w, entries[j]![1], numbers);
    }
    w.byte(SETITEMS);
  }
}

/** A series' values for pickle: NaN → None, every other number a float (graphite-web keeps floats). */
export function valuesForPickle(values: Float64Array): PickleValue[] {
  const out: PickleValue[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    out[i] = Number.isNaN(x) ? null : new PickleFloat(x);
  }
  return out;
}

/** A number written as a float even when integral (Python float 4.0, not int 4). */
export class PickleFloat {
  constructor(readonly value: number) {}
}
