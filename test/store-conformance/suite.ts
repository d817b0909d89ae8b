import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../../core/runtime/runtime.js';
import { FetchTooLarge, pointBatch, type PluginManifest, type StoreInstance } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';
import { waitFor } from '../helpers/carbonado.js';

/**
 * The store conformance suite: every store must answer fetch, find and tags as Whisper does for
 * the same writes. Expected answers come from Python whisper itself (the oracle script replays the
 * same update_many calls with whisper's clock pinned), so a third-party store can import this
 * suite and be held to Graphite's semantics, not to another store's.
 */
export interface StoreUnderTest {
  /** the store instance's config (without rules: the suite adds `schemas` and `aggregation`) */
  config(dir: string): Record<string, unknown>;
  /** true when everything accepted has been persisted (the suite advances the clock only then) */
  idle(store: StoreInstance): boolean;
  plugins?: readonly PluginManifest[];
}

type Method = 'average' | 'sum' | 'last' | 'max' | 'min' | 'avg_zero' | 'absmax' | 'absmin';
interface Case {
  archives: Array<[number, number]>;
  xff: number;
  method: Method;
  calls: Array<{ now: number; points: Array<[number, number]> }>;
  fetches: Array<{ from: number; until: number; now: number }>;
}

const T = 1_700_000_000; // a multiple of 600, so archives align predictably

function series(i: number, n: number, f: (k: number) => [number, number] | undefined): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 0; k < n; k++) {
    const p = f(k);
    if (p) out.push(p);
  }
  return out;
}

function cases(): Case[] {
  const list: Case[] = [];
  // 1. ages spanning two archives: the oldest points go straight to the coarse archive
  list.push({
    archives: [[10, 60], [60, 60]],
    xff: 0.5,
    method: 'average',
    calls: [{ now: T, points: series(0, 120, (k) => [T - 1190 + k * 10, k * 1.5]) }],
    fetches: [
      { from: T - 300, until: T, now: T },
      { from: T - 3000, until: T, now: T },
      { from: T - 600, until: T - 300, now: T },
      { from: T - 700, until: T - 100, now: T },
    ],
  });
  // 2 and 3. xFilesFactor edge: 2 of 5 known does not propagate at 0.5, 3 of 5 does
  for (const known of [2, 3]) {
    list.push({
      archives: [[10, 30], [50, 30]],
      xff: 0.5,
      method: 'average',
      calls: [{ now: T, points: series(0, known, (k) => [T - 250 + k * 10, 10 + k]) }],
      fetches: [{ from: T - 1400, until: T, now: T }, { from: T - 280, until: T, now: T }],
    });
  }
  // 4-11. every aggregation method, with gaps, negatives and a three-level cascade
  for (const method of ['average', 'sum', 'last', 'max', 'min', 'avg_zero', 'absmax', 'absmin'] as Method[]) {
    list.push({
      archives: [[10, 36], [60, 30], [300, 24]],
      xff: 0.25,
      method,
      calls: [{ now: T, points: series(0, 36, (k) => (k % 4 === 3 ? undefined : [T - 350 + k * 10, ((k * 7) % 11) - 5 + k / 8])) }],
      fetches: [{ from: T - 300, until: T, now: T }, { from: T - 1700, until: T, now: T }, { from: T - 7000, until: T, now: T }],
    });
  }
  // 12. out of order, duplicates (last received wins, as carbon's cache), two points in one interval
  list.push({
    archives: [[10, 60], [60, 20]],
    xff: 0.5,
    method: 'max',
    calls: [
      {
        now: T,
        points: [
          [T - 100, 1],
          [T - 300, 3],
          [T - 100, 2],
          [T - 200, 5],
          [T - 195, 6],
          [T - 201, 7],
          [T - 300, 4],
        ],
      },
    ],
    fetches: [{ from: T - 400, until: T, now: T }, { from: T - 1100, until: T, now: T }],
  });
  // 13. future points are kept and appear once time catches up; too-old points are dropped
  list.push({
    archives: [[10, 30], [60, 10]],
    xff: 0.5,
    method: 'average',
    calls: [{ now: T, points: [[T + 20, 9], [T + 40, 8], [T - 100, 1], [T - 5000, 2], [T - 700, 3]] }],
    fetches: [{ from: T - 200, until: T + 100, now: T }, { from: T - 200, until: T + 100, now: T + 60 }, { from: T - 900, until: T, now: T }],
  });
  // 14. a later call overwrites, and wraps the ring around
  list.push({
    archives: [[10, 12], [60, 12]],
    xff: 0.5,
    method: 'sum',
    calls: [
      { now: T, points: series(0, 12, (k) => [T - 110 + k * 10, k]) },
      { now: T + 60, points: series(0, 6, (k) => [T + 10 + k * 10, 100 + k]) },
      { now: T + 60, points: [[T - 50, 42]] },
    ],
    fetches: [{ from: T - 60, until: T + 60, now: T + 60 }, { from: T - 600, until: T + 60, now: T + 60 }],
  });
  return list;
}

/** carbon's cache keeps one value per timestamp (last received wins) before update_many. */
function dedupe(points: Array<[number, number]>): Array<[number, number]> {
  const m = new Map<number, number>();
  for (const [t, v] of points) {
    m.delete(Math.trunc(t));
    m.set(Math.trunc(t), v);
  }
  return [...m.entries()];
}

function oracle(list: Case[]): Array<Array<[number, number, number, Array<number | null>] | null>> {
  const input = list.map((c) => ({ ...c, calls: c.calls.map((k) => ({ now: k.now, points: dedupe(k.points) })) }));
  const r = spawnSync(DEBIAN_PYTHON, [join(dirname(fileURLToPath(import.meta.url)), 'whisper-oracle.py')], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`whisper oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const name = (i: number) => `conf.c${i}`;

function rules(list: Case[]) {
  return {
    schemas: list.map((c, i) => ({ name: `c${i}`, pattern: `^conf\\.c${i}$`, retentions: c.archives.map(([s, p]) => `${s}:${p}`).join(',') })),
    aggregation: list.map((c, i) => ({ name: `c${i}`, pattern: `^conf\\.c${i}$`, xFilesFactor: c.xff, aggregationMethod: c.method })),
  };
}

async function boot(sut: StoreUnderTest, dir: string, list: Case[], clock: { now: number }): Promise<{ rt: Runtime; store: StoreInstance }> {
  const rt = await Runtime.create(
    { http: { host: '127.0.0.1', port: 0 }, log: { level: 'error' }, selfMetrics: { intervalSecs: 0 }, stores: { s: { ...sut.config(dir), ...rules(list) } } },
    { plugins: sut.plugins ?? builtinPlugins, file: 'conformance', clock: () => clock.now },
  );
  await rt.start();
  return { rt, store: rt.instance<StoreInstance>('stores.s')! };
}

export function storeConformance(label: string, sut: StoreUnderTest): void {
  test(`${label}: conformance with Python whisper (archives, xFilesFactor, methods, order, future, too old, wrap, restart)`, async (t) => {
    if (!requirePeer(t, hasPythonModule('whisper'), 'python3-whisper')) return;
    const list = cases();
    const expected = oracle(list);
    const dir = mkdtempSync(join(tmpdir(), `conformance-${label}-`));
    const clock = { now: T };
    let { rt, store } = await boot(sut, dir, list, clock);
    try {
      const maxCalls = Math.max(...list.map((c) => c.calls.length));
      for (let k = 0; k < maxCalls; k++) {
        for (let i = 0; i < list.length; i++) {
          const call = list[i]!.calls[k];
          if (!call) continue;
          clock.now = call.now;
          rt.services.bus.emit('points', pointBatch(call.points.map(([ts, v]) => [name(i), v, ts])), 'conformance');
          await waitFor(() => sut.idle(store), `${label} to persist call ${k} of case ${i}`, 20_000);
        }
      }
      const check = async (when: string) => {
        for (let i = 0; i < list.length; i++) {
          for (let j = 0; j < list[i]!.fetches.length; j++) {
            const f = list[i]!.fetches[j]!;
            const [got] = await store.fetch([name(i)], f.from, f.until, { now: f.now });
            const want = expected[i]![j]!;
            const where = `${when} case ${i} fetch ${j} (${JSON.stringify(f)})`;
            if (want === null) {
              assert.equal(got, undefined, `${where}: whisper answers None`);
              continue;
            }
            assert.ok(got, `${where}: no series`);
            assert.deepEqual([got.start, got.end, got.step], want.slice(0, 3), `${where}: grid`);
            const vals = [...got.values].map((v) => (Number.isNaN(v) ? null : v));
            assert.equal(vals.length, want[3].length, `${where}: length`);
            vals.forEach((v, k) => {
              const w = want[3][k]!;
              if (w === null || v === null) assert.equal(v, w, `${where}: slot ${k}`);
              else assert.ok(Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${where}: slot ${k}: ${v} != ${w}`);
            });
          }
        }
      };
      await check('before restart');
      await rt.stop();
      ({ rt, store } = await boot(sut, dir, list, clock));
      await check('after restart');
    } finally {
      await rt.stop();
    }
  });

  test(`${label}: find globs and tags as graphite-web answers them`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `conformance-find-${label}-`));
    const clock = { now: T };
    const { rt, store } = await boot(sut, dir, [], clock);
    try {
      const names = ['servers.web1.cpu.user', 'servers.web1.cpu.system', 'servers.web2.cpu.user', 'servers.db1.disk.used', 'servers.web1', 'other.x'];
      rt.services.bus.emit('points', pointBatch(names.map((n) => [n, 1, T - 10])), 'conformance');
      rt.services.bus.emit('points', pointBatch([['disk.used;dc=a;server=web01', 1, T - 10], ['disk.used;dc=b;server=web02', 2, T - 10]]), 'conformance');
      await waitFor(() => sut.idle(store), 'persist', 20_000);
      const paths = async (p: string) => (await store.find(p)).map((n) => `${n.path}${n.isLeaf ? '' : '/'}`).sort();
      assert.deepEqual(await paths('servers.*'), ['servers.db1/', 'servers.web1', 'servers.web1/', 'servers.web2/']);
      assert.deepEqual(await paths('servers.web?.cpu.*'), ['servers.web1.cpu.system', 'servers.web1.cpu.user', 'servers.web2.cpu.user']);
      assert.deepEqual(await paths('servers.{web2,db1}.*'), ['servers.db1.disk/', 'servers.web2.cpu/']);
      assert.deepEqual(await paths('servers.web[0-1].cpu.u*'), ['servers.web1.cpu.user']);
      assert.deepEqual(await paths('nothing.*'), []);
      assert.ok(store.tags, 'the store has a tag index');
      assert.deepEqual(await store.tags!.tagNames(), ['dc', 'name', 'server']);
      assert.deepEqual(await store.tags!.tagValues('server'), ['web01', 'web02']);
      assert.deepEqual(await store.tags!.findTagged([{ tag: 'name', op: '=', value: 'disk.used' }, { tag: 'dc', op: '=~', value: 'b' }]), ['disk.used;dc=b;server=web02']);
      const [s] = await store.fetch(['disk.used;dc=a;server=web01'], T - 60, T, { now: T });
      assert.equal([...s!.values].filter((v) => !Number.isNaN(v)).length, 1);
    } finally {
      await rt.stop();
    }
  });

  test(`${label}: plain series under the name tag, tagged series by name and by their _tagged path, as carbon and graphite-web answer`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `conformance-tagged-${label}-`));
    const clock = { now: T };
    const { rt, store } = await boot(sut, dir, [], clock);
    try {
      const tagged = 'tcpu;dc=east;host=a';
      rt.services.bus.emit('points', pointBatch([['reg.a.cpu', 1, T - 10], ['reg.b.cpu', 2, T - 10], [tagged, 3, T - 10]]), 'conformance');
      await waitFor(() => sut.idle(store), 'persist', 20_000);
      // carbon with tags enabled registers every series it creates in graphite-web's tag database
      assert.deepEqual(await store.tags!.tagValues('name'), ['reg.a.cpu', 'reg.b.cpu', 'tcpu']);
      assert.deepEqual(await store.tags!.findTagged([{ tag: 'name', op: '=', value: 'reg.a.cpu' }]), ['reg.a.cpu']);
      // graphite-web's finder looks a tagged name up as that one series
      assert.deepEqual(await store.find(tagged), [{ path: tagged, isLeaf: true }]);
      assert.deepEqual(await store.find('tcpu;dc=west;host=a'), []);
      // ... and reads the hashed file by the path find lists under _tagged
      const [node] = await store.find('_tagged.*.*.*');
      assert.ok(node?.isLeaf && node.path.startsWith('_tagged.'), 'the tagged series is listed under _tagged');
      const got = await store.fetch([node.path], T - 60, T, { now: T });
      assert.deepEqual(got.map((s) => [s.name, [...s.values].filter((v) => !Number.isNaN(v))]), [[node.path, [3]]]);
    } finally {
      await rt.stop();
    }
  });

  test(`${label}: a fetch that would pass maxPoints throws FetchTooLarge (before it allocates the grids); within it, the answer is whole`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `conformance-maxpoints-${label}-`));
    const clock = { now: T };
    // one second for 30 days: 2,592,000 values a series over the whole retention
    const fine: Case = { archives: [[1, 2_592_000]], xff: 0.5, method: 'average', calls: [], fetches: [] };
    const { rt, store } = await boot(sut, dir, [fine, fine, fine, fine], clock);
    const GRID = 2_592_000;
    const month = (names: string[], maxPoints?: number) => store.fetch(names, T - 30 * 86_400, T, { now: T, ...(maxPoints !== undefined ? { maxPoints } : {}) });
    try {
      rt.services.bus.emit('points', pointBatch([0, 1, 2].map((i) => [name(i), i, T - 5])), 'conformance');
      await waitFor(() => sut.idle(store), 'persist', 20_000);
      // conf.c3 only accepted, not yet stored: its grid counts as much
      rt.services.bus.emit('points', pointBatch([[name(3), 3, T - 5]]), 'conformance');
      const all = [0, 1, 2, 3].map(name);
      const whole = await month(all, 4 * GRID);
      assert.deepEqual(whole.map((s) => [s.name, s.values.length, s.values[s.values.length - 6]]), all.map((n, i) => [n, GRID, i]));
      for (const [names, maxPoints] of [[all.slice(0, 3), 3 * GRID - 1], [all, 2 * GRID], [all, 0]] as const) {
        await assert.rejects(month([...names], maxPoints), (err: unknown) => {
          assert.ok(err instanceof FetchTooLarge, String(err));
          assert.ok(err.points > maxPoints, `${err.points} values reported for a refusal at ${maxPoints}`);
          return true;
        });
      }
      assert.equal((await month(all)).length, 4, 'no maxPoints: no limit');
      // a caller that gives up (FetchOptions.signal): before, or while the reads are queued
      const gaveUp = new AbortController();
      gaveUp.abort();
      await assert.rejects(store.fetch(all, T - 30 * 86_400, T, { now: T, signal: gaveUp.signal }), { name: 'AbortError' });
      const midway = new AbortController();
      const reading = store.fetch([...all, ...all, ...all], T - 30 * 86_400, T, { now: T, signal: midway.signal });
      midway.abort();
      await assert.rejects(reading, { name: 'AbortError' });
      assert.equal((await month(all)).length, 4, 'the next fetch is answered');
    } finally {
      await rt.stop();
    }
  });
}
