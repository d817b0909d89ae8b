// A find over a large tree (`**.nomatch`, `*.*` over a million series) is a walk of every node:
// done in one go it held the event loop (0.3 s per million nodes; ten such requests at once
// stalled ingestion for seconds). The store's find hands the loop back every ~10 ms of walking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess } from '../../../test/helpers/carbonado.js';
import type { WhisperStore } from './whisper-store.js';

/** how many times the event loop got a turn while `work` ran */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number; ms: number; longest: number }> {
  let turns = 0;
  let running = true;
  let last = performance.now();
  let longest = 0;
  const spin = (): void => {
    if (!running) return;
    turns++;
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    setImmediate(spin);
  };
  setImmediate(spin);
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  running = false;
  return { value, turns, ms, longest };
}

test('find and /metrics/index.json over a 100,000-series tree give the event loop turns and answer in full', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-findyield-'));
  try {
    // the start-up walk lists names only: hard links of one file per directory make the tree cheaply
    const proto = join(dataDir, 'proto.tmp');
    const hosts = 400;
    const perHost = 250;
    for (let h = 0; h < hosts; h++) {
      const dir = join(dataDir, `host${h}`);
      await mkdir(dir);
      await writeFile(proto, '');
      const links: Promise<void>[] = [];
      for (let m = 0; m < perHost; m++) links.push(link(proto, join(dir, `m${m}.wsp`)));
      await Promise.all(links);
      await rm(proto);
    }
    const app = await startInProcess({ stores: { main: { type: 'whisper', dataDir, durability: 'none' } }, outputs: { graphite: { type: 'graphite_render' } } });
    try {
      const store = app.runtime.instance<WhisperStore>('stores.main')!;
      const nothing = await turnsDuring(() => store.find('**.nomatch'));
      assert.deepEqual(nothing.value, []);
      const all = await turnsDuring(() => store.find('*.*', { limit: 1_000_000, leavesOnly: true }));
      assert.equal(all.value.length, hosts * perHost);
      assert.equal(all.value[0]!.path, 'host0.m0');
      for (const r of [nothing, all]) {
        // a turn every ~10 ms of walking; these walks take 40 ms and more (in one go: no turn at all)
        assert.ok(r.turns >= 1, `${r.turns} turns in ${r.ms.toFixed(0)} ms`);
      }
      // /metrics/index.json: a find per branch (401 of them), each quick, together ~0.2 s: in one go
      // that was the longest stretch without a turn (~70 % of the request); now sorting the answer is
      const index = await turnsDuring(async () => (await fetch(`${app.httpUrl}/metrics/index.json`)).json() as Promise<string[]>);
      assert.equal(index.value.length, hosts * perHost);
      assert.equal(index.value[1], 'host0.m1');
      assert.ok(index.longest < 0.4 * index.ms, `${index.longest.toFixed(0)} ms without a turn in a request of ${index.ms.toFixed(0)} ms`);
    } finally {
      await app.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a render of thousands of path expressions, and /metrics/expand of thousands of queries, give the event loop turns', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-manypaths-'));
  try {
    for (let h = 0; h < 20; h++) {
      await mkdir(join(dataDir, `h${h}`));
      for (let m = 0; m < 10; m++) await writeFile(join(dataDir, `h${h}`, `m${m}.wsp`), '');
    }
    const app = await startInProcess({ stores: { main: { type: 'whisper', dataDir, durability: 'none' } }, outputs: { graphite: { type: 'graphite_render', maxBodyBytes: 4 << 20 } } });
    try {
      const post = (path: string, body: string) => fetch(`${app.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      const paths = Array.from({ length: 20_000 }, (_, i) => `**.n${i}`);
      const render = await turnsDuring(async () => {
        const r = await post('/render', `format=json&target=${encodeURIComponent(`group(${paths.join(',')})`)}`);
        return { status: r.status, body: await r.text() };
      });
      assert.deepEqual(render.value, { status: 200, body: '[]' });
      const expand = await turnsDuring(async () => {
        const r = await post('/metrics/expand', paths.map((p) => `query=${encodeURIComponent(p)}`).join('&'));
        return r.status;
      });
      assert.equal(expand.value, 200);
      for (const [what, r] of [['render', render], ['expand', expand]] as const) {
        // in one go, the walks were the whole request (10 s for 80,000 paths here)
        assert.ok(r.longest < 0.4 * r.ms, `${what}: ${r.longest.toFixed(0)} ms without a turn in ${r.ms.toFixed(0)} ms`);
      }
    } finally {
      await app.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
