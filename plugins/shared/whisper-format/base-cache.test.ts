import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWhisper, readHeader, updateMany, AGGREGATION_METHODS, type ArchiveSpec, type BaseCache } from './index.js';

const CONFIGS: ArchiveSpec[][] = [
  [[10, 30]],
  [[1, 20], [5, 24], [60, 10]],
  [[10, 2160], [60, 10080], [600, 262800]],
];

test('updates that reuse learnt archive bases write the same bytes as updates that read them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-bases-'));
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  try {
    let k = 0;
    for (const archives of CONFIGS) {
      for (const method of AGGREGATION_METHODS) {
        const a = join(dir, `a${k}.wsp`);
        const b = join(dir, `b${k}.wsp`);
        k++;
        for (const p of [a, b]) await createWhisper(p, archives, { xFilesFactor: 0.3, aggregationMethod: method, allocation: 'sparse' });
        const fa = await open(a, 'r+');
        const fb = await open(b, 'r+');
        const ha = await readHeader(fa, a);
        const hb = await readHeader(fb, b);
        const bases: BaseCache = new Map();
        let now = 1_700_000_000;
        try {
          // many rounds: the finest archives wrap several times, so slot 0 changes under the cache
          for (let round = 0; round < 40; round++) {
            now += rnd(200);
            const n = 1 + rnd(30);
            const times: number[] = [];
            const values: number[] = [];
            for (let i = 0; i < n; i++) {
              const shape = rnd(5);
              times.push(shape === 0 ? now + rnd(20) : shape === 1 ? now - rnd(5000) : now - (n - i) * (1 + rnd(3)));
              values.push(rnd(1000) - 500);
            }
            if (rnd(2)) times.sort((x, y) => x - y);
            await updateMany(fa, ha, times, values, n, now, bases);
            await updateMany(fb, hb, times, values, n, now);
            assert.ok(readFileSync(a).equals(readFileSync(b)), `${JSON.stringify(archives)} ${method} round ${round}`);
          }
        } finally {
          await fa.close();
          await fb.close();
        }
        assert.ok(bases.size > 0, 'the cache learnt bases');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a point in the first step after 1970 (interval 0, which whisper reads as no base) is not cached as a base', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-bases-'));
  try {
    // whisper joins interval 0 to the run after it: slot 0 gets (0, 2), and the next update finds
    // the base 0, "a new archive", and writes 3360 to slot 0 (the fuzz case, also propagated)
    for (const [archives, calls] of [
      [[[60, 100]], [[6000, [[30, 2], [420, 1]]], [6000, [[3360, 3]]]]],
      [[[3, 10], [30, 2], [60, 100]], [[6040, [[436, 1], [40, 2]]], [6070, [[3360, 3]]]]],
    ] as Array<[ArchiveSpec[], Array<[number, Array<[number, number]>]>]>) {
      const [a, b] = [join(dir, 'a.wsp'), join(dir, 'b.wsp')];
      rmSync(a, { force: true });
      rmSync(b, { force: true });
      for (const p of [a, b]) await createWhisper(p, archives, { xFilesFactor: 0.5, aggregationMethod: 'average', allocation: 'sparse' });
      const [fa, fb] = [await open(a, 'r+'), await open(b, 'r+')];
      const [ha, hb] = [await readHeader(fa, a), await readHeader(fb, b)];
      const bases: BaseCache = new Map();
      try {
        for (const [now, points] of calls) {
          await updateMany(fa, ha, points.map((p) => p[0]), points.map((p) => p[1]), points.length, now, bases);
          await updateMany(fb, hb, points.map((p) => p[0]), points.map((p) => p[1]), points.length, now);
        }
      } finally {
        await fa.close();
        await fb.close();
      }
      assert.ok(readFileSync(a).equals(readFileSync(b)), JSON.stringify(archives));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
