/**
 * Wire encoders for the two protocols every carbon-compatible receiver speaks.
 * - plaintext: `name value timestamp\n` per point;
 * - pickle: frames of a 4-byte big-endian length and a protocol-2 pickle of
 *   `[(name, (timestamp, value)), …]`, at most `pointsPerFrame` points each, as carbon-relay sends.
 *   Only list, tuple, unicode, int and float opcodes are used, so carbon's safe unpickler accepts it.
 */
import type { Chunk } from './chunk.js';

/**
 * JavaScript's shortest round-trip number text; Python's float() reads all of it, including
 * `1e+21` and `Infinity`, and so does the spill reader (Number()).
 */
const num = String;

/** a value's text: `-0` keeps its sign (String(-0) is '0'), as carbon-relay's `-0.0` does */
const value = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

export function encodePlaintext(c: Chunk, from = 0, to = c.length): Buffer {
  let s = '';
  for (let i = from; i < to; i++) s += `${c.names[i]} ${value(c.values[i]!)} ${num(c.times[i]!)}\n`;
  return Buffer.from(s, 'utf8');
}

/**
 * carbon's receivers close the connection on a frame body over PICKLE_RECEIVER_MAX_LENGTH (2^20):
 * a frame is cut at that many bytes whatever pointsPerFrame says, or a destination would refuse
 * the same frame at every reconnect (long UTF-8 names, a large pointsPerFrame).
 */
export const MAX_PICKLE_FRAME_BYTES = 1 << 20;

const PROTO = 0x80, EMPTY_LIST = 0x5d, MARK = 0x28, APPENDS = 0x65, STOP = 0x2e;
const BINUNICODE = 0x58, BININT = 0x4a, BINFLOAT = 0x47, TUPLE2 = 0x86;

function fitsInt32(t: number): boolean {
  return Number.isInteger(t) && t >= -2147483648 && t <= 2147483647;
}

/** Pickle frames (each length-prefixed) for points [from, to) of a chunk. */
export function encodePickle(c: Chunk, pointsPerFrame: number, from = 0, to = c.length, maxFrameBytes = MAX_PICKLE_FRAME_BYTES): Buffer {
  const nameBytes = new Array<number>(to - from);
  // where each frame ends: at pointsPerFrame points or before the body would pass maxFrameBytes
  const frameEnds: number[] = [];
  const HEAD = 6; // PROTO 2 ] ( … e .
  let size = 0;
  let frameBody = HEAD;
  let framePoints = 0;
  for (let i = from; i < to; i++) {
    const nb = Buffer.byteLength(c.names[i]!, 'utf8');
    nameBytes[i - from] = nb;
    // X len name, ts (J i32 or G f64), G value, TUPLE2, TUPLE2
    const point = 5 + nb + (fitsInt32(c.times[i]!) ? 5 : 9) + 9 + 2;
    if (framePoints > 0 && (framePoints === pointsPerFrame || frameBody + point > maxFrameBytes)) {
      frameEnds.push(i);
      size += 4 + frameBody;
      frameBody = HEAD;
      framePoints = 0;
    }
    frameBody += point;
    framePoints++;
  }
  if (framePoints > 0) {
    frameEnds.push(to);
    size += 4 + frameBody;
  }
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  let start = from;
  for (const end of frameEnds) {
    const lenAt = o;
    o += 4;
    buf[o++] = PROTO;
    buf[o++] = 2;
    buf[o++] = EMPTY_LIST;
    buf[o++] = MARK;
    for (let i = start; i < end; i++) {
      buf[o++] = BINUNICODE;
      const nb = nameBytes[i - from]!;
      buf.writeUInt32LE(nb, o);
      o += 4;
      o += buf.write(c.names[i]!, o, nb, 'utf8');
      const t = c.times[i]!;
      if (fitsInt32(t)) {
        buf[o++] = BININT;
        buf.writeInt32LE(t, o);
        o += 4;
      } else {
        buf[o++] = BINFLOAT;
        buf.writeDoubleBE(t, o);
        o += 8;
      }
      buf[o++] = BINFLOAT;
      buf.writeDoubleBE(c.values[i]!, o);
      o += 8;
      buf[o++] = TUPLE2;
      buf[o++] = TUPLE2;
    }
    buf[o++] = APPENDS;
    buf[o++] = STOP;
    buf.writeUInt32BE(o - lenAt - 4, lenAt);
    start = end;
  }
  return buf;
}
