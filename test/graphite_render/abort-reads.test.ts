// A render refused for its size stops its reads: they no longer hold up the renders after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointBatch, type StoreInstance } from '../../core/index.js';
import { startInProcess, waitFor } from '../helpers/carbonado.js';

test('a render refused past maxPointsPerRequest stops the reads it queued: the next render is not kept waiting', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-abort-reads-'));
  const T = Math.floor(Date.now() / 1000);
  const c = await startInProcess({
    stores: { main: { type: 'whisper', dataDir: dir, schemas: [{ name: 'fine', pattern: '^big', retentions: '1s:8d' }, { name: 'rest', pattern: '.*', retentions: '10s:1d' }] } },
    outputs: { graphite: { type: 'graphite_render', maxPointsPerRequest: 20_000_000 } },
  });
  try {
    const name = (i: number) => `s${String(i % 128).padStart(3, '0')}`;
    c.runtime.services.bus.emit('points', pointBatch([...Array.from({ length: 128 }, (_, i) => [`big.${name(i)}`, i, T - 5] as [string, number, number]), ['small.x', 1, T - 5]]), 'test');
    const store = c.runtime.instance<StoreInstance>('stores.main')!;
    await waitFor(() => store.stats!().cache_points === 0, 'files written', 60_000);
    // 64 path expressions of 20 series × 691,200 points: each fits the budget alone, not together;
    // the evaluator fetches them at once, so ~1,300 file reads are queued when the first refusal comes
    const paths = Array.from({ length: 64 }, (_, i) => `big.{${Array.from({ length: 20 }, (_, k) => name(i + k)).join(',')}}`);
    const t0 = performance.now();
    const big = await fetch(`${c.httpUrl}/render?format=json&from=-8d&target=${encodeURIComponent(`group(${paths.join(',')})`)}`);
    assert.equal(big.status, 422);
    assert.match(((await big.json()) as { error: string }).error, /more than 20000000 datapoints/);
    const refusedAfter = performance.now() - t0;
    const t1 = performance.now();
    const small = await fetch(`${c.httpUrl}/render?format=json&from=-1h&target=small.x`);
    assert.equal(small.status, 200);
    await small.arrayBuffer();
    const waited = performance.now() - t1;
    // before, the refused render's reads went on after its 422: the next render waited ~7 s here
    assert.ok(waited < 1500, `the next render took ${Math.round(waited)} ms (the refusal came after ${Math.round(refusedAfter)} ms)`);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
