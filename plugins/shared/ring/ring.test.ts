// Pure checks of the hashes and the ring; placement against the real relays is in
// test/relay/ring-interop.test.ts (Python carbon, carbon-c-relay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32, fnv1a64, fnv1aPosition, jumpBucket, md5Position, xorshiftNext } from './hashes.js';
import { createRing, formatMember, parseMember } from './ring.js';

test('FNV-1a 32 and 64 match the published test vectors for ASCII', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  assert.equal(fnv1a64(''), 0xcbf29ce484222325n);
  assert.equal(fnv1a64('a'), 0xaf63dc4c8601ec8cn);
  assert.equal(fnv1a64('foobar'), 0x85944171f73967e8n);
});

test('non-ASCII bytes are sign-extended, as carbon-c-relay reads them through a signed char', () => {
  // 'é' is C3 A9: each byte XORed in as 0xFFFFFFxx
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ (b | 0xffffff00), 0x01000193) >>> 0;
  assert.equal(fnv1a32('é'), h);
  let unsigned = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) unsigned = Math.imul(unsigned ^ b, 0x01000193) >>> 0;
  assert.notEqual(fnv1a32('é'), unsigned, 'the unsigned (Python carbon) hash is another ring');
});

test('ring positions: MD5 first two bytes, FNV folded to 16 bits', () => {
  // md5('') = d41d8cd9…
  assert.equal(md5Position(''), 0xd41d);
  const h = fnv1a32('a.b.c');
  assert.equal(fnv1aPosition('a.b.c'), ((h >>> 16) ^ (h & 0xffff)) >>> 0);
});

test('jump hash: a key stays in its bucket or moves to the new one as buckets grow', () => {
  for (let k = 0; k < 200; k++) {
    const key = fnv1a64(`series.${k}`);
    let prev = jumpBucket(key, 1);
    assert.equal(prev, 0);
    for (let n = 2; n <= 12; n++) {
      const b = jumpBucket(key, n);
      assert.ok(b === prev || b === n - 1, `key ${k}: ${prev} → ${b} with ${n} buckets`);
      prev = b;
    }
  }
  assert.notEqual(xorshiftNext(1n), 1n);
});

test('destinations: carbon-c-relay and carbon syntaxes, IPv6, and refusals', () => {
  assert.deepEqual(parseMember('10.0.0.1:2003'), { host: '10.0.0.1', port: 2003 });
  assert.deepEqual(parseMember('10.0.0.1:2003=a'), { host: '10.0.0.1', port: 2003, instance: 'a' });
  assert.deepEqual(parseMember('cache1:2004:b'), { host: 'cache1', port: 2004, instance: 'b' });
  assert.deepEqual(parseMember('[::1]:2003=x'), { host: '::1', port: 2003, instance: 'x' });
  assert.equal(formatMember(parseMember('[::1]:2003=x')), '[::1]:2003=x');
  assert.throws(() => parseMember('nohost'));
  assert.throws(() => parseMember('h:0'));
  assert.throws(() => parseMember('h:70000'));
  assert.throws(() => parseMember('h:2003='));
  assert.throws(() => createRing([], { method: 'carbon_ch', replication: 1 }));
  assert.throws(() => createRing([parseMember('h:1'), parseMember('h:2')], { method: 'carbon_ch', replication: 1 }), /instance/);
  assert.throws(() => createRing([parseMember('h:1=a'), parseMember('h:1=b')], { method: 'fnv1a_ch', replication: 1 }), /host and port/);
});

test('replication is clamped to the number of members, and replicas are distinct', () => {
  const members = ['a:1', 'b:1', 'c:1'].map(parseMember);
  for (const method of ['carbon_ch', 'fnv1a_ch', 'jump_fnv1a_ch'] as const) {
    const ring = createRing(members, { method, replication: 5 });
    assert.equal(ring.replication, 3);
    for (let k = 0; k < 500; k++) {
      const nodes = ring.nodes(`m.${k}`);
      assert.equal(nodes.length, 3);
      assert.equal(new Set(nodes).size, 3);
    }
    assert.deepEqual(createRing([members[0]!], { method, replication: 2 }).nodes('x'), [0]);
  }
});

test('distinct_hosts keeps replicas off a host that already has one (carbon DIVERSE_REPLICAS)', () => {
  const members = ['h1:1=a', 'h1:2=b', 'h2:1=a'].map(parseMember);
  const diverse = createRing(members, { method: 'carbon_ch', replication: 2, replicaPlacement: 'distinct_hosts' });
  for (let k = 0; k < 300; k++) {
    const hosts = diverse.nodes(`m.${k}`).map((i) => members[i]!.host);
    assert.deepEqual([...hosts].sort(), ['h1', 'h2']);
  }
});
