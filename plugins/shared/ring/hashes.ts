/**
 * The hash functions the Graphite relays place series with. Each one hashes the UTF-8 bytes of a
 * string. carbon-c-relay reads bytes through a plain `char`, which is signed on x86 and most
 * Linux targets: a byte >= 0x80 is sign-extended before it is XORed in. We copy that, so names
 * with non-ASCII characters land where carbon-c-relay (x86) puts them.
 */
import * as crypto from 'node:crypto';

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** UTF-8 bytes of `s` unless it is pure ASCII (then undefined: read charCodeAt directly). */
function utf8IfNeeded(s: string): Uint8Array | undefined {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.from(s, 'utf8');
  return undefined;
}

/** 32-bit FNV-1a with carbon-c-relay's signed-char quirk. */
export function fnv1a32(s: string): number {
  let h = FNV32_OFFSET;
  const bytes = utf8IfNeeded(s);
  if (bytes === undefined) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV32_PRIME);
  } else {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      h = Math.imul(h ^ (b >= 0x80 ? b | 0xffffff00 : b), FNV32_PRIME);
    }
  }
  return h >>> 0;
}

/** The 16-bit ring position fnv1a_ch uses: high half XOR low half of FNV-1a 32. */
export function fnv1aPosition(s: string): number {
  const h = fnv1a32(s);
  return ((h >>> 16) ^ (h & 0xffff)) >>> 0;
}

/** crypto.hash (Node >= 20.12) is the one-shot digest, about twice as fast as createHash. */
const oneShotMd5: (s: string) => Buffer =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('md5', s, 'buffer') as unknown as Buffer
    : (s) => crypto.createHash('md5').update(s, 'utf8').digest();

/**
 * The 16-bit ring position carbon_ch uses: the first two bytes of the MD5 digest
 * (Python carbon: `int(md5(key).hexdigest()[:4], 16)`).
 */
export function md5Position(s: string): number {
  const d = oneShotMd5(s);
  return (d[0]! << 8) | d[1]!;
}

/**
 * 64-bit FNV-1a (signed-char quirk included) as two unsigned 32-bit halves [hi, lo]. The multiply
 * by the 64-bit prime 0x100000001b3 is done on the halves (h*0x1b3 + h<<40), so a name costs no
 * BigInt work per byte.
 */
export function fnv1a64Parts(s: string): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const bytes = utf8IfNeeded(s);
  const n = bytes === undefined ? s.length : bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes === undefined ? s.charCodeAt(i) : bytes[i]!;
    if (b >= 0x80) {
      hi = (hi ^ 0xffffffff) >>> 0;
      lo = (lo ^ (b | 0xffffff00)) >>> 0;
    } else {
      lo = (lo ^ b) >>> 0;
    }
    // every partial product stays below 2^53, so it is exact
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    hi = (hi * 0x1b3 + carry + (lo & 0xffffff) * 0x100) % 0x100000000;
    lo = newLo;
  }
  return [hi >>> 0, lo];
}

export function fnv1a64(s: string): bigint {
  const [hi, lo] = fnv1a64Parts(s);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

const MASK64 = (1n << 64n) - 1n;

/** The 64-bit jump multiplier 2862933555777941757 in 16-bit limbs, low first. */
const JM = [0xb0fd, 0x87b0, 0x2ee6, 0x27bb] as const;

/**
 * Lamping and Veach's jump consistent hash: the bucket in [0, buckets) for the 64-bit key
 * (hi, lo). The 64-bit multiply-add runs on 16-bit limbs (exact in doubles) and the division in
 * doubles exactly as carbon-c-relay does, so both agree bit for bit.
 */
export function jumpBucketParts(hi: number, lo: number, buckets: number): number {
  let b = -1;
  let j = 0;
  let k0 = lo & 0xffff, k1 = lo >>> 16, k2 = hi & 0xffff, k3 = hi >>> 16;
  while (j < buckets) {
    b = j;
    // k = k * JUMP_MULT + 1 (mod 2^64), limb by limb with carries
    const c0 = k0 * JM[0] + 1;
    const c1 = k1 * JM[0] + k0 * JM[1];
    const c2 = k2 * JM[0] + k1 * JM[1] + k0 * JM[2];
    const c3 = k3 * JM[0] + k2 * JM[1] + k1 * JM[2] + k0 * JM[3];
    k0 = c0 % 0x10000;
    let t = c1 + Math.floor(c0 / 0x10000);
    k1 = t % 0x10000;
    t = c2 + Math.floor(t / 0x10000);
    k2 = t % 0x10000;
    t = c3 + Math.floor(t / 0x10000);
    k3 = t % 0x10000;
    // key >> 33 is the high 32 bits shifted right by one
    const top = (k3 * 0x10000 + k2) / 2;
    j = Math.trunc((b + 1) * (2147483648 / (Math.floor(top) + 1)));
  }
  return b;
}

export function jumpBucket(key: bigint, buckets: number): number {
  return jumpBucketParts(Number((key >> 32n) & 0xffffffffn), Number(key & 0xffffffffn), buckets);
}

/** carbon-c-relay's xorshift step that derives the next replica's jump key from the previous. */
export function xorshiftNext(h: bigint): bigint {
  let x = h;
  x ^= x >> 12n;
  x = (x ^ (x << 25n)) & MASK64;
  x ^= x >> 27n;
  return (x * 2685821657736338717n) & MASK64;
}
