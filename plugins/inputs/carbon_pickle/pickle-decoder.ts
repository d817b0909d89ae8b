/**
 * A safe decoder for the pickles Carbon senders put on port 2004: a list of
 * `(path, (timestamp, value))`. It is a small stack machine that knows only the data opcodes
 * real senders emit (lists, tuples, text, numbers, bools, None, memo, frames: see README.md for
 * the table) and refuses everything else, notably every opcode that names a global, calls or
 * builds an object. Nothing in a frame can make it run code, recurse, or allocate more than the
 * frame size and the configured limits allow.
 *
 * Socket-free: the input hands it one frame (the bytes after the length prefix) at a time.
 */
import { isUtf8 } from 'node:buffer';
import { TextError, decodeRawUnicodeEscape, parseFloatOpcode, parseIntOpcode, parsePyFloat, parsePyInt, unquotePyString } from './pickle-text.js';

export interface PickleLimits {
  /** values (strings, numbers, None, bools, lists, tuples) one frame may create; a carbon-relay point costs 5 */
  readonly maxItemsPerFrame: number;
  /** deepest container nesting (a carbon point is depth 2 inside the outer list, 3 in all) */
  readonly maxDepth: number;
  /** memo slots: a PUT/MEMOIZE index must stay below this */
  readonly maxMemoEntries: number;
}

/**
 * Why a whole frame was refused. `limit_*` reasons mean a hostile or broken sender (the input
 * closes the connection); the others are dropped like carbon does, keeping the connection.
 */
export type FrameRefusal =
  | 'refused_opcode'
  | 'malformed'
  | 'bad_text'
  | 'unsupported_protocol'
  | 'not_a_list'
  | 'limit_items'
  | 'limit_depth'
  | 'limit_memo'
  | 'decoder_error';

export function isLimitRefusal(r: FrameRefusal): boolean {
  return r === 'limit_items' || r === 'limit_depth' || r === 'limit_memo';
}

/** Why one item of an accepted frame was skipped (the rest of the frame is kept). */
export type ItemSkip = 'item_shape' | 'name_not_text' | 'bad_timestamp' | 'bad_value' | 'nan_value';

/** Receives the decoded points of a frame, in order. The decoder validates shape and numbers, not names. */
export interface DatapointSink {
  point(name: string, time: number, value: number): void;
  skip(reason: ItemSkip, detail: string): void;
}

/** A list or tuple. Depth is measured when the container is built or appended to. */
class Seq {
  constructor(
    readonly items: Value[],
    readonly tuple: boolean,
    public depth: number,
  ) {}
}

/** A Python long too large for float(): Python raises OverflowError converting it. */
const TOO_BIG: unique symbol = Symbol('long too large for a float');

type Value = string | number | boolean | null | Seq | typeof TOO_BIG;

/** Internal: aborts the frame. Not an Error, so throwing it records no stack trace. */
class Refusal {
  constructor(
    readonly reason: FrameRefusal,
    readonly detail: string,
  ) {}
}

const MAX_PROTOCOL = 5;
const NEWLINE = 0x0a;

/** Opcodes that are valid pickle but never accepted here, by name (for the log line). */
const REFUSED_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD', 0x69: 'INST', 0x6f: 'OBJ',
  0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x7d: 'EMPTY_DICT', 0x64: 'DICT', 0x73: 'SETITEM',
  0x75: 'SETITEMS', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x30: 'POP', 0x31: 'POP_MARK',
  0x32: 'DUP',
});

/**
 * One decoder per input instance; reusable across frames (the stacks are kept, the memo is
 * cleared). Not re-entrant: decode() runs synchronously to completion.
 */
export class PickleDecoder {
  /** why the last refused frame was refused, for the log line */
  lastDetail = '';

  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;
  private readonly stack: Value[] = [];
  private readonly marks: number[] = [];
  /** memo slots [0, memoHigh) of this frame; picklers number them sequentially, so this is dense */
  private readonly memo: Value[] = [];
  private memoHigh = 0;
  /** end of the current protocol-4 FRAME (0 when none): no argument may cross it (pickle.py refuses, CPython misreads) */
  private frameEnd = 0;
  /** memo slots set out of sequence (any index below the limit is legal pickle) */
  private readonly sparseMemo = new Map<number, Value>();
  private created = 0;
  private readonly emptyTuple = new Seq([], true, 1);

  constructor(private readonly limits: PickleLimits) {}

  /**
   * Decodes the pickle in buf[start, end) and hands its points to the sink. Points reach the sink
   * only once the whole frame decoded (a refused frame contributes nothing, as in carbon).
   * Returns undefined on success, or why the frame was refused.
   */
  decode(buf: Buffer, start: number, end: number, now: number, sink: DatapointSink): FrameRefusal | undefined {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    let result: Value;
    try {
      result = this.run();
    } catch (e) {
      this.reset();
      if (e instanceof Refusal) {
        this.lastDetail = e.detail;
        return e.reason;
      }
      if (e instanceof TextError) {
        this.lastDetail = e.detail;
        return 'malformed';
      }
      // A bug here must not take the process down: the frame is dropped and reported as an error.
      this.lastDetail = `decoder error: ${(e as Error)?.message ?? String(e)}`;
      return 'decoder_error';
    }
    this.reset();
    if (!(result instanceof Seq)) {
      this.lastDetail = `frame holds ${describe(result)}, expected a list of (path, (timestamp, value))`;
      return 'not_a_list';
    }
    emitPoints(result.items, now, sink);
    return undefined;
  }

  /** Drops every reference the last frame left, so a frame's memory is released after it. */
  private reset(): void {
    this.stack.length = 0;
    this.marks.length = 0;
    if (this.memoHigh > 0) {
      this.memo.fill(null, 0, this.memoHigh);
      this.memoHigh = 0;
    }
    if (this.sparseMemo.size > 0) this.sparseMemo.clear();
    this.created = 0;
    this.frameEnd = 0;
    this.buf = EMPTY;
  }

  private run(): Value {
    const buf = this.buf;
    const stack = this.stack;
    for (;;) {
      if (this.pos >= this.end) throw new Refusal('malformed', 'pickle ends without STOP');
      const op = buf[this.pos++]!;
      switch (op) {
        case 0x80: { // PROTO
          const v = this.u8();
          if (v > MAX_PROTOCOL) throw new Refusal('unsupported_protocol', `pickle protocol ${v}`);
          break;
        }
        case 0x95: { // FRAME: we hold the whole pickle, but a read may not cross a frame's end
          if (this.pos - 1 < this.frameEnd) throw new Refusal('malformed', 'FRAME inside an unfinished frame');
          const len = this.u64Length();
          this.need(len);
          this.frameEnd = this.pos + len;
          break;
        }
        case 0x2e: // STOP
          if (stack.length <= this.fence()) throw new Refusal('malformed', 'STOP with an empty stack');
          return stack[stack.length - 1]!;
        case 0x28: // MARK
          if (this.marks.length >= this.limits.maxDepth) throw new Refusal('limit_depth', `more than ${this.limits.maxDepth} nested MARKs`);
          this.marks.push(stack.length);
          break;

        // scalars
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.need(4); this.push(buf.readInt32LE(this.pos)); this.pos += 4; break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.need(2); this.push(buf.readUInt16LE(this.pos)); this.pos += 2; break; // BININT2
        case 0x8a: this.push(this.binLong(this.u8())); break; // LONG1
        case 0x8b: { // LONG4
          const n = this.i32Length();
          this.push(this.binLong(n));
          break;
        }
        case 0x47: this.need(8); this.push(buf.readDoubleBE(this.pos)); this.pos += 8; break; // BINFLOAT
        case 0x49: { // INT: decimal line; 00 / 01 are False / True
          const line = this.lineText();
          if (line === '00') this.push(false);
          else if (line === '01') this.push(true);
          else this.push(this.bigValue(parseIntOpcode(line), 'INT'));
          break;
        }
        case 0x4c: { // LONG: int(s, 0) of the line without one trailing L
          const raw = this.lineBytes();
          const line = cString(raw[raw.length - 1] === 0x4c ? raw.subarray(0, raw.length - 1) : raw);
          this.push(this.bigValue(parsePyInt(line, 0), 'LONG'));
          break;
        }
        case 0x46: { // FLOAT: repr() line
          const v = parseFloatOpcode(this.lineText());
          if (v === undefined) throw new Refusal('malformed', 'FLOAT argument is not a number CPython reads (C double syntax, finite)');
          this.push(v);
          break;
        }

        // text
        case 0x58: this.push(this.utf8(this.u32())); break; // BINUNICODE
        case 0x8c: this.push(this.utf8(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.utf8(this.u64Length())); break; // BINUNICODE8
        case 0x54: this.push(this.utf8(this.i32Length())); break; // BINSTRING (Python 2 str)
        case 0x55: this.push(this.utf8(this.u8())); break; // SHORT_BINSTRING
        case 0x53: { // STRING: quoted literal line, bytes decoded as UTF-8
          const raw = unquotePyString(this.lineBytes());
          this.push(utf8Of(raw, 0, raw.length));
          break;
        }
        case 0x56: this.push(decodeRawUnicodeEscape(this.lineBytes())); break; // UNICODE

        // containers
        case 0x5d: this.push(new Seq([], false, 1)); break; // EMPTY_LIST
        case 0x29: this.push(this.emptyTuple); break; // EMPTY_TUPLE: immutable, so one shared instance
        case 0x6c: this.fromMark(false); break; // LIST
        case 0x74: this.fromMark(true); break; // TUPLE
        case 0x85: this.tupleN(1); break; // TUPLE1
        case 0x86: this.tupleN(2); break; // TUPLE2
        case 0x87: this.tupleN(3); break; // TUPLE3
        case 0x61: { // APPEND
          if (stack.length - 1 <= this.fence()) throw new Refusal('malformed', 'APPEND without a list');
          const v = stack.pop()!;
          this.appendTo(stack.length - 1, [v], depthOf(v));
          break;
        }
        case 0x65: { // APPENDS
          const mark = this.popMark();
          if (mark - 1 < this.fence()) throw new Refusal('malformed', 'APPENDS without a list');
          // Python treats an empty APPENDS as a no-op, whatever is below the mark
          if (mark === stack.length) break;
          const items = stack.splice(mark);
          this.appendTo(mark - 1, items, maxDepth(items));
          break;
        }

        // memo
        case 0x70: this.memoPut(this.lineIndex('PUT')); break; // PUT
        case 0x71: this.memoPut(this.u8()); break; // BINPUT
        case 0x72: this.memoPut(this.u32()); break; // LONG_BINPUT
        case 0x94: this.memoPut(this.memoHigh + this.sparseMemo.size); break; // MEMOIZE: next index = len(memo)
        case 0x67: this.memoGet(this.lineIndex('GET')); break; // GET
        case 0x68: this.memoGet(this.u8()); break; // BINGET
        case 0x6a: this.memoGet(this.u32()); break; // LONG_BINGET

        default: {
          const name = REFUSED_NAMES[op];
          if (name !== undefined) throw new Refusal('refused_opcode', `opcode ${name} (0x${hex(op)}) is not accepted`);
          throw new Refusal('malformed', `unknown opcode 0x${hex(op)}`);
        }
      }
    }
  }

  // --- stack -------------------------------------------------------------------------------

  /** Items below the innermost MARK belong to the enclosing level and may not be popped. */
  private fence(): number {
    const m = this.marks;
    return m.length === 0 ? 0 : m[m.length - 1]!;
  }

  private push(v: Value): void {
    // every push counts, memo references included: each costs a stack or container slot
    if (++this.created > this.limits.maxItemsPerFrame) {
      throw new Refusal('limit_items', `frame creates more than ${this.limits.maxItemsPerFrame} values`);
    }
    this.stack.push(v);
  }

  private popMark(): number {
    const m = this.marks.pop();
    if (m === undefined) throw new Refusal('malformed', 'no MARK on the stack');
    return m;
  }

  private fromMark(tuple: boolean): void {
    const items = this.stack.splice(this.popMark());
    this.pushSeq(new Seq(items, tuple, maxDepth(items) + 1));
  }

  private tupleN(n: number): void {
    const stack = this.stack;
    const len = stack.length;
    if (len - n < this.fence()) throw new Refusal('malformed', `TUPLE${n} on a stack of ${len - this.fence()}`);
    // pop() rather than setting length: a length store is a slow runtime call in V8
    let items: Value[];
    if (n === 2) {
      const b = stack.pop()!;
      items = [stack.pop()!, b];
    } else if (n === 1) items = [stack.pop()!];
    else {
      const c = stack.pop()!;
      const b = stack.pop()!;
      items = [stack.pop()!, b, c];
    }
    this.pushSeq(new Seq(items, true, maxDepth(items) + 1));
  }

  private pushSeq(s: Seq): void {
    if (s.depth > this.limits.maxDepth) throw new Refusal('limit_depth', `containers nested deeper than ${this.limits.maxDepth}`);
    this.push(s);
  }

  private appendTo(at: number, items: Value[], childDepth: number): void {
    const target = this.stack[at];
    if (!(target instanceof Seq) || target.tuple) throw new Refusal('malformed', `APPEND to ${describe(target ?? null)}`);
    if (childDepth + 1 > target.depth) {
      if (childDepth + 1 > this.limits.maxDepth) throw new Refusal('limit_depth', `containers nested deeper than ${this.limits.maxDepth}`);
      target.depth = childDepth + 1;
    }
    const dst = target.items;
    for (let i = 0; i < items.length; i++) dst.push(items[i]!);
  }

  private memoPut(index: number): void {
    const stack = this.stack;
    if (stack.length <= this.fence()) throw new Refusal('malformed', 'memo PUT with an empty stack');
    if (index >= this.limits.maxMemoEntries) throw new Refusal('limit_memo', `memo index ${index} over the limit of ${this.limits.maxMemoEntries}`);
    const v = stack[stack.length - 1]!;
    if (index < this.memoHigh) {
      this.memo[index] = v;
    } else if (index === this.memoHigh) {
      if (index < this.memo.length) this.memo[index] = v;
      else this.memo.push(v);
      this.memoHigh++;
      // the slot may have been set out of sequence before; the dense copy now owns it
      if (this.sparseMemo.size > 0) this.sparseMemo.delete(index);
    } else {
      this.sparseMemo.set(index, v);
      if (this.memoHigh + this.sparseMemo.size > this.limits.maxMemoEntries) {
        throw new Refusal('limit_memo', `more than ${this.limits.maxMemoEntries} memo entries`);
      }
    }
  }

  private memoGet(index: number): void {
    const v = index < this.memoHigh ? this.memo[index] : this.sparseMemo.get(index);
    if (v === undefined) throw new Refusal('malformed', `memo index ${index} not set`);
    this.push(v);
  }

  // --- reading -----------------------------------------------------------------------------

  private need(n: number): void {
    if (n > this.end - this.pos) throw new Refusal('malformed', 'pickle truncated');
    if (this.pos < this.frameEnd && this.pos + n > this.frameEnd) throw new Refusal('malformed', 'argument crosses the end of a FRAME');
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** BINSTRING and LONG4 carry a signed length; negative is malformed. */
  private i32Length(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    if (v < 0) throw new Refusal('malformed', 'negative length');
    return v;
  }

  private u64Length(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    // anything past 2^32 is longer than any frame we accept; need() below refuses it
    return hi !== 0 ? Number.MAX_SAFE_INTEGER : lo;
  }

  private utf8(n: number): string {
    this.need(n);
    const s = utf8Of(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** The bytes up to the next newline (exclusive); the newline is consumed. */
  private lineBytes(): Buffer {
    const nl = this.buf.indexOf(NEWLINE, this.pos);
    if (nl < 0 || nl >= this.end) throw new Refusal('malformed', 'pickle truncated inside a text argument');
    if (this.pos < this.frameEnd && nl >= this.frameEnd) throw new Refusal('malformed', 'argument crosses the end of a FRAME');
    const b = this.buf.subarray(this.pos, nl);
    this.pos = nl + 1;
    return b;
  }

  /** A numeric text argument. */
  private lineText(): string {
    return cString(this.lineBytes());
  }

  private lineIndex(op: string): number {
    const v = parsePyInt(this.lineText(), 10);
    if (v === undefined || v < 0) throw new Refusal('malformed', `${op} argument is not a memo index`);
    return v;
  }

  private bigValue(v: number | undefined, op: string): number | typeof TOO_BIG {
    if (v === undefined) throw new Refusal('malformed', `${op} argument is not an integer`);
    return Number.isFinite(v) ? v : TOO_BIG;
  }

  /** LONG1/LONG4 body: little-endian two's complement, computed as a double (float(long) semantics). */
  private binLong(n: number): number | typeof TOO_BIG {
    this.need(n);
    const b = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n === 0) return 0;
    const negative = (b[start + n - 1]! & 0x80) !== 0;
    // exact for up to 6 bytes; beyond that, BigInt gives correctly rounded results. Longs over
    // 128 bytes exceed 1.8e308 in magnitude unless sign-extended, so they are checked cheaply.
    if (n <= 6) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + b[start + i]!;
      return negative ? v - 2 ** (8 * n) : v;
    }
    let significant = n;
    const pad = negative ? 0xff : 0x00;
    while (significant > 1 && b[start + significant - 1] === pad) significant--;
    if (significant > 129) return TOO_BIG;
    let big = 0n;
    for (let i = n - 1; i >= 0; i--) big = (big << 8n) | BigInt(b[start + i]!);
    if (negative) big -= 1n << BigInt(8 * n);
    const v = Number(big);
    return Number.isFinite(v) ? v : TOO_BIG;
  }
}

const EMPTY = Buffer.alloc(0);

/** Buffer's undocumented but long-standing slice decoders (Node >= 0.x), typed for our use. */
type FastSlices = Buffer & { utf8Slice(start: number, end: number): string };

/** CPython parses numeric text arguments as C strings, so a NUL byte ends them early. */
function cString(line: Buffer): string {
  const nul = line.indexOf(0);
  return (nul < 0 ? line : line.subarray(0, nul)).toString('latin1');
}

/**
 * UTF-8 text, strictly: carbon decodes with errors='strict', so invalid bytes refuse the frame.
 * Node replaces invalid sequences with U+FFFD; only when one appears is the exact check run.
 */
function utf8Of(b: Uint8Array, start: number, end: number): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  // utf8Slice is what toString('utf8') calls after argument checks we have already done
  const s = (buf as FastSlices).utf8Slice(start, end);
  if (s.indexOf('\uFFFD') >= 0 && !isUtf8(buf.subarray(start, end))) throw new Refusal('bad_text', 'text is not valid UTF-8');
  return s;
}

/**
 * Walks the decoded list the way carbon's receiver does: each item must unpack as
 * `(path, (timestamp, value))` with float()-convertible numbers; NaN values are dropped; a
 * timestamp of -1 means now. Never recurses: only the fixed three levels are looked at.
 */
function emitPoints(items: readonly Value[], now: number, sink: DatapointSink): void {
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (!(item instanceof Seq) || item.items.length !== 2) {
      sink.skip('item_shape', `item ${i} is ${describe(item)}, expected (path, (timestamp, value))`);
      continue;
    }
    const name = item.items[0]!;
    const pair = item.items[1]!;
    if (!(pair instanceof Seq) || pair.items.length !== 2) {
      sink.skip('item_shape', `item ${i}: datapoint is ${describe(pair)}, expected (timestamp, value)`);
      continue;
    }
    if (typeof name !== 'string') {
      sink.skip('name_not_text', `item ${i}: path is ${describe(name)}`);
      continue;
    }
    let time = toFloat(pair.items[0]!);
    const value = toFloat(pair.items[1]!);
    if (value === undefined) {
      sink.skip('bad_value', `item ${i}: value ${describe(pair.items[1]!)} is not a number`);
      continue;
    }
    if (time === undefined || !Number.isFinite(time)) {
      sink.skip('bad_timestamp', `item ${i}: timestamp ${describe(pair.items[0]!)} is not a finite number`);
      continue;
    }
    if (value !== value) {
      sink.skip('nan_value', `item ${i}: NaN value`);
      continue;
    }
    // carbon compares int(timestamp) with -1, so -1.5 .. -0.5 (truncating to -1) mean now too
    if (Math.trunc(time) === -1) time = now;
    sink.point(name, time, value);
  }
}

/** Python float(x) for the values a pickle can carry here; undefined where Python raises. */
function toFloat(v: Value): number | undefined {
  switch (typeof v) {
    case 'number': return v;
    case 'string': return parsePyFloat(v);
    case 'boolean': return v ? 1 : 0;
    default: return undefined;
  }
}

/** Nesting depth of a value: scalars 0, containers their own (current) depth. */
function depthOf(v: Value): number {
  return v instanceof Seq ? v.depth : 0;
}

function maxDepth(items: readonly Value[]): number {
  let d = 0;
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (v instanceof Seq && v.depth > d) d = v.depth;
  }
  return d;
}

function describe(v: Value): string {
  if (v === null) return 'None';
  if (v === TOO_BIG) return 'an integer too large for a float';
  if (v instanceof Seq) return `a ${v.tuple ? 'tuple' : 'list'} of ${v.items.length}`;
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return String(v);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
