// Fuzzing the decoder: 100,000+ random and mutated frames with a fixed seed. The decoder must
// never throw, never hit its internal-error path, keep memory bounded, and (where carbon's own
// unpickler is installed) agree with carbon on every frame both accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PickleDecoder, isLimitRefusal, type FrameRefusal } from './pickle-decoder.js';
import { requirePeer } from '../../../test/helpers/peers.js';
import { DEFAULT_LIMITS, carbonDecode, decodeFrame, fromRepr, hasCarbon } from './testdata/oracle.js';

const NOW = 1_800_000_000;
const SEED = 0x5eed_2004;
const FRAMES = 100_000;

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Seed frames in the shapes real senders use (no Python needed to build them). */
function seeds(): Buffer[] {
  const relay = (n: number, proto4: boolean): Buffer => {
    const parts: Buffer[] = [proto4 ? b('\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00]\x94(') : b('\x80\x02]q\x00(')];
    for (let i = 0; i < n; i++) {
      const name = Buffer.from(`fuzz.series.${i}`);
      const hdr = Buffer.alloc(5);
      hdr[0] = proto4 ? 0x8c : 0x58;
      let nameOp: Buffer;
      if (proto4) nameOp = Buffer.concat([Buffer.from([0x8c, name.length]), name]);
      else {
        hdr.writeUInt32LE(name.length, 1);
        nameOp = Buffer.concat([hdr, name]);
      }
      const ts = Buffer.alloc(5);
      ts[0] = 0x4a;
      ts.writeInt32LE(1700000000 + i, 1);
      const v = Buffer.alloc(9);
      v[0] = 0x47;
      v.writeDoubleBE(i * 0.25, 1);
      const memo = proto4 ? b('\x94') : b('q\x01');
      parts.push(nameOp, memo, ts, v, b('\x86'), memo, b('\x86'), memo);
    }
    parts.push(b('e.'));
    const f = Buffer.concat(parts);
    if (proto4) f.writeUInt32LE(f.length - 11, 3); // FRAME length covers the rest
    return f;
  };
  return [
    relay(5, false),
    relay(5, true),
    relay(40, false),
    b("(l(S'stats.a'\n(L1700000000L\nS'2.5'\ntta(S'stats.b'\n(L1700000000L\nS'-1e3'\ntta."),
    b("(lp0\n(S'a.b'\np1\n(I1700000000\nF1.5\ntp2\ntp3\na(Vuni\\u00e9\np4\n(I01\ng2\ntp5\na."),
    b('\x80\x02](U\x03a.bK\x05\x8a\x02\x01\x02\x86\x86(X\x01\x00\x00\x00c(M\x01\x01\x88tte.'),
  ];
}

/** Opcode bytes worth splicing in: every accepted one and the refused ones. */
const OPCODES = b('(.l]aet)NIJKLMFGSTUVXpqrghj\x80\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x94\x95cR\x93bio\x81}BC0122');

function mutate(src: Buffer, r: () => number): Buffer {
  const out = Buffer.from(src);
  const kind = Math.floor(r() * 7);
  const at = Math.floor(r() * Math.max(1, out.length));
  switch (kind) {
    case 0: { // flip bits in a few bytes
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)]! ^= 1 << Math.floor(r() * 8);
      return out;
    }
    case 1: // truncate
      return out.subarray(0, at);
    case 2: // overwrite a byte with an opcode
      out[at] = OPCODES[Math.floor(r() * OPCODES.length)]!;
      return out;
    case 3: // insert an opcode
      return Buffer.concat([out.subarray(0, at), OPCODES.subarray(Math.floor(r() * OPCODES.length)).subarray(0, 1), out.subarray(at)]);
    case 4: // delete a run
      return Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + Math.floor(r() * 8)))]);
    case 5: { // overwrite a length-like field with extreme values
      const v = [0, 1, 0xff, 0x7fffffff, 0x80000000, 0xffffffff][Math.floor(r() * 6)]!;
      if (at + 4 <= out.length) out.writeUInt32LE(v >>> 0, at);
      return out;
    }
    default: { // duplicate a slice (repeated structure, memo reuse)
      const len = Math.floor(r() * 32);
      return Buffer.concat([out.subarray(0, at), out.subarray(at, at + len), out.subarray(at)]);
    }
  }
}

function randomFrame(r: () => number): Buffer {
  const n = Math.floor(r() * 64);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r() < 0.5 ? OPCODES[Math.floor(r() * OPCODES.length)]! : Math.floor(r() * 256);
  return out;
}

/** The fuzz corpus: a third purely random, the rest mutations (sometimes stacked) of the seeds. */
function corpus(count: number): Buffer[] {
  const r = rng(SEED);
  const base = seeds();
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) frames.push(randomFrame(r));
    else {
      let f = base[Math.floor(r() * base.length)]!;
      const rounds = 1 + Math.floor(r() * 3);
      for (let k = 0; k < rounds; k++) f = mutate(f, r);
      frames.push(f);
    }
  }
  return frames;
}

test(`fuzz: ${FRAMES} random and mutated frames never throw and keep memory bounded`, () => {
  const decoder = new PickleDecoder(DEFAULT_LIMITS);
  const frames = corpus(FRAMES);
  const counts = new Map<string, number>();
  const heapBefore = process.memoryUsage().heapUsed;
  let points = 0;
  const sink = { point: () => void points++, skip: () => undefined };
  for (const f of frames) {
    const refusal = decoder.decode(f, 0, f.length, NOW, sink);
    const key = refusal ?? 'ok';
    counts.set(key, (counts.get(key) ?? 0) + 1);
    assert.notEqual(refusal, 'decoder_error', `internal error: ${decoder.lastDetail} on ${f.toString('hex')}`);
  }
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  // the corpus itself is a few MB; the decoder must hold nothing per frame afterwards
  assert.ok(heapGrowth < 64 << 20, `heap grew by ${heapGrowth} bytes`);
  // the mutations must exercise both sides: accepted frames and every kind of refusal
  assert.ok((counts.get('ok') ?? 0) > 1000, JSON.stringify([...counts]));
  for (const r of ['malformed', 'refused_opcode', 'not_a_list']) assert.ok((counts.get(r) ?? 0) > 0, `no ${r}: ${JSON.stringify([...counts])}`);
  assert.ok(points > 0);
});

test('fuzz differential: mutated frames decode as carbon decodes them', (t) => {
  if (!requirePeer(t, hasCarbon(), 'graphite-carbon')) return;
  const frames = corpus(Number(process.env.FUZZ_DIFF_FRAMES ?? 6000)).filter((_, i) => i % 3 !== 0); // the mutated ones: random bytes rarely decode
  const expected = carbonDecode(frames, NOW);
  const decoder = new PickleDecoder(DEFAULT_LIMITS);
  const mismatches: string[] = [];
  for (let i = 0; i < frames.length; i++) {
    const got = decodeFrame(decoder, frames[i]!, NOW);
    const want = expected[i]!;
    const hex = frames[i]!.toString('hex');
    if (got.refusal !== undefined) {
      // we refuse more than carbon on purpose: limits, and opcodes no metric sender emits
      if (!want.ok || tolerated(got.refusal)) continue;
      // carbon iterates a top-level string character by character: every item is skipped
      if (got.refusal === 'not_a_list' && want.points!.length === 0) continue;
      // a FRAME whose length lies: CPython then reads misaligned bytes; we refuse the frame
      if (got.detail.includes('FRAME')) continue;
      mismatches.push(`we refused (${got.refusal}: ${got.detail}) what carbon accepted: ${hex}`);
      continue;
    }
    if (!want.ok) {
      mismatches.push(`we accepted what carbon refused (${want.error}): ${hex}`);
      continue;
    }
    const same =
      got.skips.length === want.skipped &&
      got.points.length === want.points!.length &&
      got.points.every(([n, ts, v], k) => {
        const [wn, wts, wv] = want.points![k]!;
        return n === wn && Object.is(ts, fromRepr(wts)) && Object.is(v, fromRepr(wv));
      });
    if (!same) mismatches.push(`different points: ${hex} ours=${JSON.stringify(got.points)} carbon=${JSON.stringify(want.points)}`);
  }
  assert.deepEqual(mismatches.slice(0, 5), []);
});

function tolerated(r: FrameRefusal): boolean {
  return isLimitRefusal(r) || r === 'refused_opcode';
}
