import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, type FrameBudget } from './frame-reader.js';

function framed(bodies: Buffer[]): Buffer {
  return Buffer.concat(bodies.flatMap((b) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(b.length);
    return [h, b];
  }));
}

function collect(max = 1 << 20, budget: FrameBudget = { held: 0, max: 1 << 26 }): { reader: FrameReader; frames: Buffer[]; budget: FrameBudget } {
  const frames: Buffer[] = [];
  const reader = new FrameReader(max, budget, (buf, s, e) => frames.push(Buffer.from(buf.subarray(s, e))));
  return { reader, frames, budget };
}

test('frames split at every possible boundary come out whole and in order', () => {
  const bodies = Array.from({ length: 40 }, (_, i) => Buffer.alloc(i * 7, i));
  const stream = framed(bodies);
  for (const size of [1, 2, 3, 4, 5, 7, 64, 1000, stream.length]) {
    const { reader, frames, budget } = collect();
    for (let p = 0; p < stream.length; p += size) assert.equal(reader.push(stream.subarray(p, p + size)), 'open');
    assert.deepEqual(frames, bodies, `chunk size ${size}`);
    assert.equal(reader.pendingBytes, 0);
    assert.equal(budget.held, 0);
  }
});

test('a length over the limit is refused from its header alone, even split', () => {
  const { reader, frames } = collect(1024);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(0x80000000); // 2 GiB
  assert.equal(reader.push(h.subarray(0, 2)), 'open');
  assert.equal(reader.push(h.subarray(2)), 'frame_too_long');
  assert.equal(reader.refusedLength, 0x80000000);
  assert.equal(reader.push(framed([Buffer.from('x')])), 'frame_too_long'); // ignores what follows
  assert.deepEqual(frames, []);
  assert.equal(reader.pendingBytes, 0);
});

test('frames before an oversized one are delivered', () => {
  const { reader, frames } = collect(10);
  const over = Buffer.alloc(4);
  over.writeUInt32BE(11);
  assert.equal(reader.push(Buffer.concat([framed([Buffer.from('ok')]), over])), 'frame_too_long');
  assert.deepEqual(frames, [Buffer.from('ok')]);
});

test('partial frames hold only what arrived, within the shared budget', () => {
  const budget: FrameBudget = { held: 0, max: 100 };
  const a = collect(1 << 20, budget);
  const b = collect(1 << 20, budget);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(1 << 20);
  assert.equal(a.reader.push(Buffer.concat([h, Buffer.alloc(60)])), 'open');
  assert.equal(budget.held, 64);
  assert.equal(b.reader.push(Buffer.concat([h, Buffer.alloc(60)])), 'over_budget');
  assert.equal(budget.held, 64);
  assert.equal(a.reader.close(), 64);
  assert.equal(budget.held, 0);
  assert.equal(a.reader.status, 'closed');
});

test('close() from inside a frame callback stops the rest of the read', () => {
  const budget: FrameBudget = { held: 0, max: 1 << 20 };
  let seen = 0;
  const reader: FrameReader = new FrameReader(1024, budget, () => {
    seen++;
    reader.close();
  });
  assert.equal(reader.push(framed([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')])), 'closed');
  assert.equal(seen, 1);
  assert.equal(budget.held, 0);
});
