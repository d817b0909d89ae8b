import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../../../test/helpers/peers.js';
import { NameTree, TagIndex, compileGlob, expandBraces, fnmatchToRegExp } from './index.js';
import { FirstSorted } from './tags.js';
import { PatternTooBroad, codePointCompare, type TagTerm } from '../../../core/index.js';

const DRIVER = fileURLToPath(new URL('./testdata/gwfind.py', import.meta.url));

test('brace expansion and fnmatch translation', () => {
  assert.deepEqual(expandBraces('a{b,c}d').sort(), ['abd', 'acd']);
  assert.deepEqual(expandBraces('{a,{b,c}}').sort(), ['a', 'b', 'c']);
  assert.deepEqual(expandBraces('x{a,a}').sort(), ['xa']);
  assert.ok(fnmatchToRegExp('web[0-9]*').test('web1x'));
  assert.ok(!fnmatchToRegExp('web[!0-9]').test('web1'));
  assert.ok(fnmatchToRegExp('a[').test('a['));
  assert.ok(fnmatchToRegExp('a?c').test('abc'));
  assert.ok(!fnmatchToRegExp('A*').test('abc'));
  // bounded where graphite-web is not: brace groups multiply, `*?` runs and unclosed `[`s backtracked
  const t0 = performance.now();
  assert.throws(() => expandBraces(`dc0.${'{a,b}'.repeat(21)}`), PatternTooBroad);
  assert.throws(() => expandBraces('{0,1,2,3,4,5,6,7,8,9}'.repeat(7)), PatternTooBroad);
  assert.equal(expandBraces('{a,b}'.repeat(16)).length, 2 ** 16);
  assert.equal(fnmatchToRegExp('*?*?*?*?Z').test('a'.repeat(64)), false);
  assert.ok(fnmatchToRegExp('*?*?*?*?Z').test('abcdZ') && !fnmatchToRegExp('*?*?*?*?Z').test('abcZ'));
  assert.ok(fnmatchToRegExp(`x${'['.repeat(20_000)}`).test(`x${'['.repeat(20_000)}`));
  assert.throws(() => fnmatchToRegExp(`x${'['.repeat(300_000)}`), PatternTooBroad);
  assert.ok(performance.now() - t0 < 3000, `${performance.now() - t0} ms`);
});

test('leaf and branch at one path give two nodes; add/delete keep the tree tidy', () => {
  const t = new NameTree();
  t.add('a.b');
  t.add('a.b.c');
  t.add('a.x');
  assert.equal(t.add('a.x'), false);
  assert.deepEqual(t.find('a.*'), [
    { path: 'a.b', isLeaf: false },
    { path: 'a.b', isLeaf: true },
    { path: 'a.x', isLeaf: true },
  ]);
  assert.deepEqual(t.find('a.b.c'), [{ path: 'a.b.c', isLeaf: true }]);
  assert.deepEqual(t.find('nope.*'), []);
  t.delete('a.b.c');
  assert.deepEqual(t.find('a.*'), [
    { path: 'a.b', isLeaf: true },
    { path: 'a.x', isLeaf: true },
  ]);
  assert.equal(t.size, 2);
  assert.deepEqual(t.allLeaves(), ['a.b', 'a.x']);
});

function names(): string[] {
  const out: string[] = [];
  const envs = ['prod', 'staging', 'dev'];
  for (let h = 0; h < 200; h++) {
    for (let m = 0; m < 40; m++) {
      const env = envs[(h + m) % 3]!;
      out.push(`servers.${env}.web${h}.cpu${m % 8}.${['user', 'system', 'idle', 'iowait', 'steal'][m % 5]}`);
    }
  }
  for (let i = 0; i < 2000; i++) out.push(`stats.timers.api${i % 100}.endpoint_${i}.mean`);
  return out.slice(0, 10_000);
}

test('find answers as graphite-web does over a tree of 10,000 series', async (t) => {
  if (!requirePeer(t, hasPythonModule('graphite.finders'), 'graphite-web')) return;
  const all = names();
  assert.equal(all.length, 10_000);
  const tree = new NameTree();
  for (const n of all) tree.add(n);
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-find-'));
  try {
    const dirs = new Set<string>();
    for (const n of all) dirs.add(dirname(join(dir, `${n.replace(/\./g, '/')}.wsp`)));
    for (const d of dirs) await mkdir(d, { recursive: true });
    await Promise.all(all.map((n) => writeFile(join(dir, `${n.replace(/\./g, '/')}.wsp`), '')));
    const patterns = [
      '*',
      'servers.*',
      'servers.prod.*',
      'servers.{prod,dev}.web1*.cpu[0-3]',
      'servers.*.web?.cpu[!0-5].*',
      'servers.*.*.*.*',
      'servers.prod.web1.cpu1.user',
      'servers.prod.web1',
      'stats.timers.api{1,2,3}.endpoint_1*.mean',
      'stats.timers.*.*[05].mean',
      'stats.*.api9?',
      'nope.*',
      'servers.*.web4{0,1}.cpu{0,{1,2}}.{user,idle}',
      // runs of * and ? (one `.{k,}`), and unclosed classes, as fnmatch reads them
      'servers.*.w?*?.cpu*?',
      'stats.timers.a*??*.endpoint_?*?*',
      'servers.prod.web1.cpu[1',
      // globstar: any depth; a terminal one lists the branches below too
      'servers.prod.web1.**',
      'servers.prod.web1*.**',
      'stats.timers.api1.**',
      'servers.**.user',
      'servers.prod.**.cpu1.*',
      '**.mean',
    ];
    const r = spawnSync(DEBIAN_PYTHON, [DRIVER, dir], { input: JSON.stringify(patterns), encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const expected: Array<Array<[string, boolean]>> = JSON.parse(r.stdout);
    patterns.forEach((p, i) => {
      const ours = tree
        .find(p)
        .map((n) => [n.path, n.isLeaf] as [string, boolean])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : Number(a[1]) - Number(b[1])));
      assert.deepEqual(ours, expected[i], `pattern ${p}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('find stays fast on a large tree', () => {
  const tree = new NameTree();
  for (let i = 0; i < 200_000; i++) tree.add(`host${i % 500}.disk${i % 7}.m${i}`);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) tree.find(`host${i}.*.m*`);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `20 finds took ${ms} ms`);
});

test('tag index: names, values and seriesByTag terms', async () => {
  const idx = new TagIndex();
  idx.add('disk.used;datacenter=dc1;rack=a1;server=web01');
  idx.add('disk.used;datacenter=dc1;rack=b2;server=web02');
  idx.add('disk.free;datacenter=dc2;server=web03');
  idx.add('plain.metric');
  assert.deepEqual(await idx.tagNames(), ['datacenter', 'name', 'rack', 'server']);
  assert.deepEqual(await idx.tagValues('server'), ['web01', 'web02', 'web03']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=', value: 'disk.used' }]), [
    'disk.used;datacenter=dc1;rack=a1;server=web01',
    'disk.used;datacenter=dc1;rack=b2;server=web02',
  ]);
  assert.deepEqual(await idx.findTagged([{ tag: 'server', op: '=~', value: 'web0[13]' }, { tag: 'rack', op: '!=', value: 'a1' }]), [
    'disk.free;datacenter=dc2;server=web03',
  ]);
  assert.deepEqual(await idx.findTagged([{ tag: 'server', op: '=~', value: 'eb' }]), []); // anchored at the start
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=', value: 'plain.metric' }]), ['plain.metric']);
  await assert.rejects(idx.findTagged([{ tag: 'rack', op: '=', value: '' }]), /must not match the empty string/);
  idx.delete('disk.free;datacenter=dc2;server=web03');
  assert.deepEqual(await idx.tagValues('datacenter'), ['dc1']);
});

test('tag index: a plain series is a value of `name` beside tagged series of the same name', async () => {
  const idx = new TagIndex();
  assert.deepEqual(await idx.tagNames(), []);
  idx.add('a.b');
  idx.add('a.c');
  assert.deepEqual(await idx.tagNames(), ['name']);
  idx.add('a.b;x=1');
  idx.add('z.y;x=2');
  assert.equal(idx.add('a.b'), false);
  assert.equal(idx.size, 4);
  assert.deepEqual(await idx.tagNames(), ['name', 'x']);
  assert.deepEqual(await idx.tagValues('name'), ['a.b', 'a.c', 'z.y']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=', value: 'a.b' }]), ['a.b', 'a.b;x=1']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=~', value: 'a' }]), ['a.b', 'a.b;x=1', 'a.c']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=~', value: '.' }, { tag: 'name', op: '!=', value: 'a.b' }]), ['a.c', 'z.y;x=2']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=~', value: '.' }, { tag: 'name', op: '!=~', value: '[az]\\.[by]' }]), ['a.c']);
  assert.deepEqual(await idx.findTagged([{ tag: 'x', op: '=~', value: '.' }, { tag: 'name', op: '!=~', value: 'a' }]), ['z.y;x=2']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=~', value: 'a' }, { tag: 'x', op: '!=', value: '1' }]), ['a.b', 'a.c']);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=', value: 'a.b;x=1' }]), [], 'a whole tagged name is not a value of name');
  assert.deepEqual(await idx.findTagged([{ tag: 'x', op: '=~', value: '.' }]), ['a.b;x=1', 'z.y;x=2']);
  assert.equal(idx.delete('a.b'), true);
  assert.equal(idx.delete('a.b'), false);
  assert.deepEqual(await idx.findTagged([{ tag: 'name', op: '=', value: 'a.b' }]), ['a.b;x=1']);
  idx.delete('a.c');
  idx.delete('a.b;x=1');
  idx.delete('z.y;x=2');
  assert.deepEqual(await idx.tagNames(), []);
  assert.deepEqual(await idx.tagValues('name'), []);
});

test('FirstSorted: the first N distinct values in code point order, as a full sort would give them', () => {
  // a seeded generator: the same strings every run; astral characters sort after U+E000-U+FFFF
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = ['a', 'b', 'z', '.', 'A', '\ue000', '\u{1f600}', '0'];
  const values = Array.from({ length: 5000 }, () => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
  const expected = [...new Set(values)].sort(codePointCompare);
  for (const order of [values, [...values].sort(codePointCompare), [...values].sort(codePointCompare).reverse()]) {
    for (const limit of [0, 1, 5, 100, 999, 1000, 4000, Number.POSITIVE_INFINITY]) {
      const f = new FirstSorted(limit);
      for (const v of order) f.add(v);
      assert.deepEqual(f.sorted(), expected.slice(0, limit), `limit ${limit}`);
    }
  }
});

test('tag index: tagValues with a prefix and a limit', async () => {
  const idx = new TagIndex();
  for (const n of ['b.x', 'a.y', 'a.x', 'c.z;dc=1', 'a.x;dc=2', 'a.w;dc=1']) idx.add(n);
  assert.deepEqual(await idx.tagValues('name', { prefix: 'a.' }), ['a.w', 'a.x', 'a.y']);
  assert.deepEqual(await idx.tagValues('name', { prefix: 'a.', limit: 2 }), ['a.w', 'a.x']);
  assert.deepEqual(await idx.tagValues('name', { limit: 4 }), ['a.w', 'a.x', 'a.y', 'b.x']);
  assert.deepEqual(await idx.tagValues('dc', { prefix: '2' }), ['2']);
  assert.deepEqual(await idx.tagValues('dc', { limit: 0 }), []);
  assert.deepEqual(await idx.tagValues('nope', { prefix: 'a' }), []);
  // counts per value, as findTagged would give them one value at a time
  for (const tag of ['name', 'dc', 'nope']) {
    const counts = await idx.tagValueCounts(tag);
    const values = await idx.tagValues(tag);
    assert.deepEqual([...counts.keys()].sort(), values);
    for (const v of values) assert.equal(counts.get(v), (await idx.findTagged([{ tag, op: '=', value: v }])).length, `${tag}=${v}`);
  }
  assert.equal((await idx.tagValueCounts('name')).get('a.x'), 2, 'the plain a.x and a.x;dc=2');
});

test('find with a limit stops past it (limit + 1 nodes); under it, the answer is whole; leavesOnly drops branches', () => {
  const tree = new NameTree();
  for (let h = 0; h < 50; h++) for (let m = 0; m < 40; m++) tree.add(`h${h}.m${m}`);
  tree.add('h0.m0.sub'); // h0.m0 is a leaf and a branch
  for (const pattern of ['*.*', 'h{1,2,3}.*', '**', 'h1*.m?', '*.m0']) {
    const all = tree.find(pattern);
    assert.deepEqual(tree.find(pattern, { limit: all.length }), all, `${pattern}: a limit it does not pass changes nothing`);
    for (const limit of [0, 1, 7, all.length - 1]) {
      const some = tree.find(pattern, { limit });
      assert.equal(some.length, limit + 1, `${pattern} limit ${limit}`);
      for (const n of some) assert.ok(all.some((a) => a.path === n.path && a.isLeaf === n.isLeaf), `${pattern}: ${n.path} is a match`);
    }
    const leaves = all.filter((n) => n.isLeaf);
    assert.deepEqual(tree.find(pattern, { leavesOnly: true }), leaves, `${pattern} leavesOnly`);
    assert.deepEqual(tree.find(pattern, { leavesOnly: true, limit: leaves.length }), leaves);
  }
  assert.deepEqual(tree.find('h0.*', { leavesOnly: true }).filter((n) => n.path === 'h0.m0'), [{ path: 'h0.m0', isLeaf: true }]);
});

test('findAsync answers as find, handing the event loop back during a long walk; series added meanwhile do no harm', async () => {
  const tree = new NameTree();
  for (let h = 0; h < 300; h++) for (let m = 0; m < 300; m++) tree.add(`h${h}.m${m}`);
  tree.add('h0.m0.sub');
  for (const pattern of ['*.*', '**', 'h1*.m?', '**.m0', '*.nomatch', '{h1,h2}.*', 'h[0-2].m[0-2]*', '*']) {
    for (const opts of [{}, { limit: 5 }, { leavesOnly: true }, { limit: 89_999, leavesOnly: true }]) {
      assert.deepEqual(await tree.findAsync(pattern, opts), tree.find(pattern, opts), `${pattern} ${JSON.stringify(opts)}`);
    }
  }
  let turns = 0;
  const spin = setInterval(() => {
    turns++;
    tree.add(`h${turns}.late`);
    tree.delete(`h${turns}.m1`);
  }, 0);
  try {
    const found = await tree.findAsync('**.nomatch');
    assert.deepEqual(found, []);
    const all = await tree.findAsync('*.m*');
    assert.ok(all.length >= 90_000 - turns && all.every((n) => /^h\d+\.m\d+$/.test(n.path)));
  } finally {
    clearInterval(spin);
  }
  assert.ok(turns >= 1, 'the walks let timers run');
});

test('findTagged with a limit stops past it (limit + 1 matches); under it, the answer is whole', async () => {
  const idx = new TagIndex();
  for (let i = 0; i < 300; i++) idx.add(`m${i % 3};env=${i % 2 ? 'prod' : 'dev'};pod=p${i}`);
  for (let i = 0; i < 50; i++) idx.add(`plain.m${i}`);
  const queries: TagTerm[][] = [
    [{ tag: 'env', op: '=', value: 'prod' }],
    [{ tag: 'pod', op: '=~', value: 'p1' }, { tag: 'env', op: '!=', value: 'dev' }],
    [{ tag: 'name', op: '=~', value: '(m1|plain)' }],
    [{ tag: 'name', op: '=', value: 'plain.m7' }],
  ];
  for (const terms of queries) {
    const all = await idx.findTagged(terms);
    assert.ok(all.length > 0);
    assert.deepEqual(await idx.findTagged(terms, { limit: all.length }), all, JSON.stringify(terms));
    for (const limit of [0, 1, Math.floor(all.length / 2)].filter((l) => l < all.length)) {
      const some = await idx.findTagged(terms, { limit });
      assert.equal(some.length, limit + 1, `${JSON.stringify(terms)} limit ${limit}`);
      for (const s of some) assert.ok(all.includes(s));
    }
  }
});

test('tag index: a value held by one series, then two, then one again, then none', async () => {
  const idx = new TagIndex();
  const pod = (v: string) => idx.findTagged([{ tag: 'pod', op: '=', value: v }]);
  idx.add('cpu;pod=a');
  assert.deepEqual(await pod('a'), ['cpu;pod=a']);
  idx.add('mem;pod=a');
  idx.add('mem;pod=a'); // again: no change
  assert.deepEqual(await pod('a'), ['cpu;pod=a', 'mem;pod=a']);
  assert.equal((await idx.tagValueCounts('pod')).get('a'), 2);
  idx.delete('cpu;pod=a');
  assert.deepEqual(await pod('a'), ['mem;pod=a']);
  assert.equal((await idx.tagValueCounts('pod')).get('a'), 1);
  assert.deepEqual(await idx.findTagged([{ tag: 'pod', op: '=~', value: 'a' }]), ['mem;pod=a']);
  idx.delete('cpu;pod=a'); // not there: no change
  assert.deepEqual(await pod('a'), ['mem;pod=a']);
  idx.delete('mem;pod=a');
  assert.deepEqual(await pod('a'), []);
  assert.deepEqual(await idx.tagNames(), []);
  assert.deepEqual(await idx.tagValues('pod'), []);
});

test('compiled globs answer as the fnmatch regex does, in time linear in name × pattern', () => {
  let seed = 5;
  const rand = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const parts = ['a', 'b', '*', '?', '[ab]', '[!a]', '[a-c]', '[', ']', '[]a]', '[!]]', '.', '\\', 'é', '*?', '[^a]'];
  for (let k = 0; k < 20_000; k++) {
    const pat = Array.from({ length: 1 + rand(6) }, () => parts[rand(parts.length)]!).join('');
    const re = fnmatchToRegExp(pat);
    const glob = compileGlob(pat);
    for (let j = 0; j < 5; j++) {
      const name = Array.from({ length: rand(8) }, () => 'ab]c[.é\\^'[rand(10)]!).join('');
      assert.equal(glob.test(name), re.test(name), `${JSON.stringify(pat)} vs ${JSON.stringify(name)}`);
    }
  }
  // (name length)^stars with a backtracking regex: 23 s for six stars on a 64-character name
  const t0 = performance.now();
  const slow = compileGlob('*a*a*a*a*a*a*a*b');
  for (let i = 0; i < 100; i++) assert.equal(slow.test('a'.repeat(250)), false);
  assert.ok(performance.now() - t0 < 1000, `${performance.now() - t0} ms`);
  // through find, as /metrics/find and render use it: 16 hashed names, 2.6 s with the regex
  const tree = new NameTree();
  for (let i = 0; i < 16; i++) tree.add(`h.${'0123456789abcdef'.repeat(4).slice(i)}${'0123456789abcdef'.repeat(4).slice(0, i)}`);
  const t1 = performance.now();
  assert.deepEqual(tree.find('h.*[0-9a-f]*[0-9a-f]*[0-9a-f]*[0-9a-f]*[0-9a-f]*g'), []);
  assert.equal(tree.find('h.*[0-9a-f]*[0-9a-f]*[0-9a-f]*[0-9a-f]*[0-9a-f]*').length, 16);
  assert.ok(performance.now() - t1 < 500, `find took ${performance.now() - t1} ms`);
});

test('a tag expression whose regex backtracks is refused after a second (PatternTooBroad), not run for hours', { timeout: 60_000 }, async () => {
  const idx = new TagIndex();
  idx.add(`m;k=${'a'.repeat(40)}`);
  idx.add('m;k=b');
  assert.deepEqual(await idx.findTagged([{ tag: 'k', op: '=~', value: 'b' }]), ['m;k=b']);
  const t0 = performance.now();
  await assert.rejects(idx.findTagged([{ tag: 'k', op: '=~', value: '(a+)+c' }]), (e: unknown) => e instanceof PatternTooBroad && /a tag expression took more than 1000 ms/.test((e as Error).message));
  assert.ok(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
  // and the index keeps answering
  assert.deepEqual(await idx.findTagged([{ tag: 'k', op: '=', value: 'b' }]), ['m;k=b']);
});

test('brace variants: each one a test of its own for the turns; not cached when many; a find past its deadline stops', { timeout: 60_000 }, async () => {
  const tree = new NameTree();
  for (let i = 0; i < 4000; i++) tree.add(`flat.n${String(i).padStart(4, '0')}${'q'.repeat(36)}`);
  for (let i = 0; i < 12; i++) tree.add(`chain${'.c'.repeat(i)}.leaf`);
  // 256 variants × 4,000 children: ~1 M tests, in slices
  let turns = 0;
  const tick = setInterval(() => turns++, 0);
  const t0 = performance.now();
  const found = await tree.findAsync(`flat.*${'{a,b}'.repeat(8)}x`);
  const ms = performance.now() - t0;
  clearInterval(tick);
  assert.deepEqual(found, []);
  assert.ok(turns >= Math.min(3, Math.floor(ms / 40)), `${turns} turns in ${ms.toFixed(0)} ms`);
  assert.equal(tree.cachedPatterns, 1, '256 variants are kept');
  // 65,536 variants × 4,000 children would take minutes: stopped at the deadline, not walked on
  const t1 = performance.now();
  await assert.rejects(tree.findAsync(`flat.*${'{a,b}'.repeat(16)}x`, { deadline: Date.now() + 300 }), (e: unknown) => e instanceof PatternTooBroad && /time limit/.test((e as Error).message));
  assert.ok(performance.now() - t1 < 5000, `${performance.now() - t1} ms`);
  // 48 patterns of 65,536 variants each kept ~95 MB apiece until the heap ran out: not kept
  assert.equal(tree.cachedPatterns, 1);
  await assert.rejects(tree.findAsync('chain.**.**.**.**.**.nomatch', { deadline: Date.now() - 1 }), PatternTooBroad);
});
