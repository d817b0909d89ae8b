// ExactSum against Python's math.fsum: after any sequence of additions and subtractions its value is
// the correctly rounded sum of what remains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DEBIAN_PYTHON, requirePeer } from '../../../../test/helpers/peers.js';
import { ExactSum } from './exact-sum.js';

test('ExactSum is math.fsum of the values still in it (checked against python3)', (t) => {
  if (!requirePeer(t, existsSync(DEBIAN_PYTHON), 'python3')) return;
  let seed = 99;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const value = (): number => {
    const r = rand();
    if (r < 0.1) return (rand() - 0.5) * 1e15;
    if (r < 0.2) return (rand() - 0.5) * 1e-10;
    if (r < 0.3) return 0.1 * Math.floor(rand() * 10);
    return (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 15);
  };
  // windows: each case slides over its values, subtracting what leaves, and records the sum at every step
  const cases: number[][] = Array.from({ length: 40 }, () => Array.from({ length: 300 }, value));
  const windows = [1, 3, 17, 64];
  const got: string[][] = [];
  const want: string[][] = [];
  const remaining: number[][][] = [];
  for (const values of cases) {
    for (const w of windows) {
      const s = new ExactSum();
      const sums: string[] = [];
      const kept: number[][] = [];
      for (let i = 0; i < values.length; i++) {
        s.add(values[i]!);
        if (i >= w) s.add(-values[i - w]!);
        sums.push(s.value().toPrecision(17));
        kept.push(values.slice(Math.max(0, i - w + 1), i + 1));
      }
      got.push(sums);
      remaining.push(kept);
    }
  }
  const py = spawnSync(DEBIAN_PYTHON, ['-c', 'import json,sys,math\nprint(json.dumps([[repr(math.fsum(float(v) for v in win)) for win in case] for case in json.load(sys.stdin)]))'], {
    input: JSON.stringify(remaining.map((c) => c.map((win) => win.map((v) => v.toPrecision(17))))), encoding: 'utf8', maxBuffer: 1 << 28,
  });
  assert.equal(py.status, 0, py.stderr);
  for (const c of JSON.parse(py.stdout) as string[][]) want.push(c.map((v) => Number(v).toPrecision(17)));
  let bad = 0;
  let first = '';
  got.forEach((sums, k) => sums.forEach((v, i) => {
    if (v !== want[k]![i]) {
      bad++;
      first ||= `case ${k} step ${i}: ${v}, fsum ${want[k]![i]}`;
    }
  }));
  assert.equal(bad, 0, `${bad} differences; first: ${first}`);
});
