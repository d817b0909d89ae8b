import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PickleDecoder, isLimitRefusal } from './pickle-decoder.js';
import { parsePyFloat } from './pickle-text.js';
import { requirePeer } from '../../../test/helpers/peers.js';
import { DEFAULT_LIMITS, carbonDecode, decodeFrame, fromRepr, goldenFrames, hasCarbon } from './testdata/oracle.js';

const NOW = 1_800_000_000;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const dec = (): PickleDecoder => new PickleDecoder(DEFAULT_LIMITS);

/** A protocol-2 frame in carbon-relay's shape, built opcode by opcode. */
function relayFrame(points: Array<[string, number, number]>): Buffer {
  const parts: Buffer[] = [b('\x80\x02]q\x00(')];
  let memo = 1;
  for (const [name, ts, v] of points) {
    const nb = Buffer.from(name, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(nb.length);
    const tsb = Buffer.alloc(5);
    tsb[0] = 0x4a;
    tsb.writeInt32LE(ts, 1);
    const vb = Buffer.alloc(9);
    vb[0] = 0x47;
    vb.writeDoubleBE(v, 1);
    parts.push(b('X'), len, nb, b(`q${String.fromCharCode(memo++)}`), tsb, vb, b('\x86'), b(`q${String.fromCharCode(memo++)}`), b('\x86'), b(`q${String.fromCharCode(memo++)}`));
  }
  parts.push(b('e.'));
  return Buffer.concat(parts);
}

test('carbon-relay shaped protocol 2 frame decodes to its points', () => {
  const r = decodeFrame(dec(), relayFrame([['a.b', 1700000000, 1.5], ['c.d;x=y', 1700000010, -2]]), NOW);
  assert.equal(r.refusal, undefined);
  assert.deepEqual(r.points, [['a.b', 1700000000, 1.5], ['c.d;x=y', 1700000010, -2]]);
  assert.deepEqual(r.skips, []);
});

test('Etsy statsd hand-built protocol 0 frame: string values, LONG timestamps with L', () => {
  const frame = b("(l(S'stats.a'\n(L1700000000L\nS'2.5'\ntta(S'stats.b'\n(L1700000000L\nS'-1e3'\ntta.");
  const r = decodeFrame(dec(), frame, NOW);
  assert.equal(r.refusal, undefined, r.detail);
  assert.deepEqual(r.points, [['stats.a', 1700000000, 2.5], ['stats.b', 1700000000, -1000]]);
});

test('Python 2 str opcodes (SHORT_BINSTRING, BINSTRING, STRING with escapes) are UTF-8 text', () => {
  const long = 'p'.repeat(300);
  const bin = Buffer.alloc(4);
  bin.writeInt32LE(long.length);
  const frame = Buffer.concat([
    b('\x80\x02](U\x03a.bK\x05K\x07\x86\x86T'), bin, b(long), b('K\x01K\x02\x86\x86'),
    b("(S'caf\\xc3\\xa9\\'s'\n(I1\nI2\ntt"), b('e.'),
  ]);
  const r = decodeFrame(dec(), frame, NOW);
  assert.equal(r.refusal, undefined, r.detail);
  assert.deepEqual(r.points, [['a.b', 5, 7], [long, 1, 2], ["café's", 1, 2]]);
});

test('timestamp -1 means now; NaN values, None and bad shapes are skipped, the rest kept', () => {
  const frame = b("(lp0\n(S'a'\n(I-1\nF2.0\ntta(S'b'\n(I5\nFnan\ntta(S'c'\n(I5\nNtta(S'd'\nta(S'e'\n(S'x'\nI1\ntta(I1\n(I1\nI1\ntta(S'f'\n(F-1.5\nI3\ntta.");
  const r = decodeFrame(dec(), frame, NOW);
  assert.equal(r.refusal, undefined, r.detail);
  assert.deepEqual(r.points, [['a', NOW, 2], ['f', NOW, 3]]);
  assert.deepEqual(r.skips, ['nan_value', 'bad_value', 'item_shape', 'bad_timestamp', 'name_not_text']);
});

test('code-running and object opcodes are refused, never executed', () => {
  const cases: Array<[string, Buffer]> = [
    ['GLOBAL os.system + REDUCE', b("cos\nsystem\n(S'touch /tmp/pwned'\ntR.")],
    ['protocol 4 STACK_GLOBAL', b('\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.')],
    ['INST', b("(S'id'\nios\nsystem\n.")],
    ['BUILD', b(']}b.')],
    ['NEWOBJ', b('\x80\x02N)\x81.')],
    ['PERSID', b('Pfoo\n.')],
    ['BINBYTES', b('\x80\x03C\x03abc\x85.')],
    ['dict', b('\x80\x02}.')],
    ['EXT1', b('\x80\x02\x82\x01.')],
  ];
  for (const [what, frame] of cases) {
    const r = decodeFrame(dec(), frame, NOW);
    assert.equal(r.refusal, 'refused_opcode', what);
    assert.deepEqual(r.points, [], what);
  }
});

test('malformed frames are refused without throwing', () => {
  const cases: Array<[string, Buffer]> = [
    ['empty', b('')],
    ['no STOP', b('\x80\x02]')],
    ['truncated BINUNICODE', b('\x80\x02X\xff\x00\x00\x00ab')],
    ['truncated line', b('I123')],
    ['APPEND to a tuple', b(')Na.')],
    ['stack underflow', b('\x86.')],
    ['missing memo', b('h\x05.')],
    ['unknown opcode', b('\xff.')],
    ['bad STRING quoting', b("S'abc\n.")],
    ['bad FLOAT', b('F1.2.3\n.')],
    ['negative BINSTRING length', b('T\xff\xff\xff\xff.')],
    ['FRAME longer than the data', b('\x80\x04\x95\x00\x01\x00\x00\x00\x00\x00\x00].')],
  ];
  for (const [what, frame] of cases) {
    const r = decodeFrame(dec(), frame, NOW);
    assert.ok(r.refusal === 'malformed', `${what}: ${r.refusal} ${r.detail}`);
  }
  assert.equal(decodeFrame(dec(), b('\x80\x06].')).refusal, 'unsupported_protocol');
  assert.equal(decodeFrame(dec(), b('K\x01.')).refusal, 'not_a_list');
  assert.equal(decodeFrame(dec(), b('\x80\x02X\x02\x00\x00\x00\xc3\x28\x85]a.')).refusal, 'bad_text');
});

test('limits: nesting depth, values per frame, memo size', () => {
  const deep = Buffer.concat([b('N'), Buffer.alloc(100, 0x85), b('.')]);
  const r1 = decodeFrame(dec(), deep);
  assert.equal(r1.refusal, 'limit_depth');
  assert.ok(isLimitRefusal(r1.refusal!));
  const marks = Buffer.concat([Buffer.alloc(100, 0x28), b('.')]);
  assert.equal(decodeFrame(dec(), marks).refusal, 'limit_depth');
  // a list nested in itself through the memo stays bounded: appending grows the depth check
  assert.equal(decodeFrame(dec(), b(`]q\x00${'h\x00a'.repeat(20)}.`)).refusal, 'limit_depth');
  // a million empty tuples: one byte each, within the default limit (a value costs a byte at
  // least), over a lower one
  const tiny = Buffer.concat([b(']('), Buffer.alloc(1_000_000, 0x29), b('e.')]);
  assert.equal(decodeFrame(dec(), tiny).refusal, undefined);
  const r2 = decodeFrame(new PickleDecoder({ ...DEFAULT_LIMITS, maxItemsPerFrame: 262_144 }), tiny);
  assert.equal(r2.refusal, 'limit_items');
  const memo = b('Nr\x00\x00\x10\x00.');
  assert.equal(decodeFrame(dec(), memo).refusal, 'limit_memo');
  // the decoder is reusable after any refusal
  const ok = decodeFrame(dec(), relayFrame([['after.refusal', 1, 2]]));
  assert.deepEqual(ok.points, [['after.refusal', 1, 2]]);
});

test('a decoder reused across frames forgets the previous memo', () => {
  const d = dec();
  assert.equal(decodeFrame(d, relayFrame([['a', 1, 2]])).refusal, undefined);
  assert.equal(decodeFrame(d, b(']h\x01a.')).refusal, 'malformed');
});

test('parsePyFloat follows Python float()', () => {
  const ok: Array<[string, number]> = [['1', 1], [' 2.5 ', 2.5], ['-1e3', -1000], ['1_000.5', 1000.5], ['.5', 0.5], ['5.', 5], ['+inf', Infinity], ['-Infinity', -Infinity], ['1E-2', 0.01]];
  for (const [s, v] of ok) assert.equal(parsePyFloat(s), v, s);
  assert.ok(Number.isNaN(parsePyFloat('NaN')!));
  for (const s of ['', ' ', '0x10', '1__0', '_1', '1_', 'abc', '1e', '--1', 'infinit', '1.2.3']) assert.equal(parsePyFloat(s), undefined, s);
});

test('golden frames from the Python pickle module decode exactly as carbon decodes them', (t) => {
  if (!requirePeer(t, hasCarbon(), 'graphite-carbon')) return;
  const frames = goldenFrames();
  assert.ok(frames.length >= 15);
  const expected = carbonDecode(frames.map((f) => f.frame), NOW);
  const d = dec();
  for (let i = 0; i < frames.length; i++) {
    const { name, frame } = frames[i]!;
    const want = expected[i]!;
    const got = decodeFrame(d, frame, NOW);
    assert.ok(want.ok, `${name}: carbon refused a golden frame: ${want.error}`);
    assert.equal(got.refusal, undefined, `${name}: ${got.detail}`);
    assert.equal(got.skips.length, want.skipped, `${name}: skipped`);
    assert.equal(got.points.length, want.points!.length, `${name}: points`);
    for (let k = 0; k < got.points.length; k++) {
      const [n, ts, v] = want.points![k]!;
      assert.deepEqual(got.points[k], [n, fromRepr(ts), fromRepr(v)], `${name}: point ${k}`);
    }
  }
});

test("protocol-0 FLOAT and INT text is read as CPython's unpickler reads it (carbon's oracle)", (t) => {
  if (!requirePeer(t, hasCarbon(), 'graphite-carbon')) return;
  // ('m', (1800000000, <value>)) in a list, the value as a protocol-0 opcode line
  const frame = (value: string): Buffer => b(`(l(S'm'\n(I1800000000\n${value}\ntta.`);
  const values = ['F1.5', 'F-0.0', 'Finf', 'F-nan', 'F1e308', 'I-0', 'I0', 'L-0L', 'F 1.5', 'F1_0', 'F2.5 ', 'F1e400', 'F.5e', 'I1_0'];
  const expected = carbonDecode(values.map(frame), NOW);
  values.forEach((v, i) => {
    const want = expected[i]!;
    const got = decodeFrame(dec(), frame(v), NOW);
    if (!want.ok) {
      assert.equal(got.refusal, 'malformed', `${v}: carbon refuses it (${want.error}); got ${got.refusal ?? `points ${JSON.stringify(got.points)}`}`);
      return;
    }
    assert.equal(got.refusal, undefined, `${v}: ${got.detail}`);
    assert.equal(got.points.length, want.points!.length, `${v}: points (a NaN value is skipped)`);
    if (want.points!.length === 0) return;
    const w = fromRepr(want.points![0]![2]);
    const g = got.points[0]![2];
    // Object.is: +0 and -0 are different bytes in a whisper file
    assert.ok(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${v}: carbon ${want.points![0]![2]}, carbonado ${g}`);
  });
});
