import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token-bucket.js';

test('a rate under one a second still holds one token: one take at once, the next one later', () => {
  const b = new TokenBucket(0.5);
  assert.equal(b.tryTake(), true);
  assert.equal(b.tryTake(), false);
});

test('a capacity of N gives N takes at once, then none', () => {
  const b = new TokenBucket(1 / 60, 3);
  assert.deepEqual([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()], [true, true, true, false]);
});

test('0 is unlimited', () => {
  const b = new TokenBucket(0);
  for (let i = 0; i < 1000; i++) assert.equal(b.tryTake(), true);
});

test('take() gives up, without waiting for the token, once abandon() says so', async () => {
  const b = new TokenBucket(0.001); // the next token is 1000 s away
  assert.equal(await b.take(), true);
  let calls = 0;
  const t = performance.now();
  assert.equal(await b.take(() => ++calls > 2), false);
  assert.equal(calls, 3);
  assert.ok(performance.now() - t < 1000, 'waited in short slices');
});

test('take() waits for the next token at the rate', async () => {
  const b = new TokenBucket(20); // one every 50 ms after the first 20
  for (let i = 0; i < 20; i++) assert.equal(b.tryTake(), true);
  const t = performance.now();
  assert.equal(await b.take(), true);
  assert.ok(performance.now() - t >= 40, `took ${performance.now() - t} ms`);
});
