// The request limits reach the store through the runtime, so that a glob or a tag query over a
// huge index stops walking once it is past them instead of matching everything first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointBatch, type FindOptions, type StoreInstance } from '../../core/index.js';
import { startInProcess, waitFor } from '../helpers/carbonado.js';

test('graphite_render passes maxSeriesPerTarget and maxFindResults to the store: past them, 422 without a full walk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-limits-'));
  const c = await startInProcess({
    stores: { s: { type: 'sqlite', path: join(dir, 'carbonado.db') } },
    outputs: { api: { type: 'graphite_render', maxSeriesPerTarget: 10, maxFindResults: 20 } },
  });
  try {
    const store = c.runtime.instance<StoreInstance>('stores.s')!;
    const now = Math.floor(Date.now() / 1000) - 60;
    store.write(pointBatch(Array.from({ length: 30 }, (_, i) => [`a.s${i}`, i, now] as [string, number, number])));
    store.write(pointBatch(Array.from({ length: 30 }, (_, i) => [`t;k=v${i}`, i, now] as [string, number, number])));
    await waitFor(() => store.stats!().queue_points === 0, 'the commit');

    const finds: Array<{ pattern: string; opts?: FindOptions; answered: number }> = [];
    const find = store.find.bind(store);
    store.find = async (pattern, opts) => {
      const nodes = await find(pattern, opts);
      finds.push({ pattern, opts, answered: nodes.length });
      return nodes;
    };
    const tagged: Array<{ limit?: number; answered: number }> = [];
    const findTagged = store.tags!.findTagged.bind(store.tags);
    store.tags!.findTagged = async (terms, opts) => {
      const names = await findTagged(terms, opts);
      tagged.push({ limit: opts?.limit, answered: names.length });
      return names;
    };
    const get = async (path: string) => {
      const r = await fetch(`${c.httpUrl}${path}`);
      return { status: r.status, body: await r.text() };
    };

    let r = await get('/render?target=sumSeries(a.*)&format=json&from=-10min');
    assert.equal(r.status, 422, r.body);
    assert.match(r.body, /matches more than 10 series/);
    // the request's deadline goes along, so that a long walk stops with the request
    const deadlineOf = () => (finds.at(-1)!.opts as { deadline?: number }).deadline;
    assert.ok(deadlineOf()! > Date.now() && deadlineOf()! < Date.now() + 31_000);
    assert.deepEqual(finds.at(-1), { pattern: 'a.*', opts: { limit: 10, leavesOnly: true, deadline: deadlineOf() }, answered: 11 });

    r = await get('/metrics/find?query=a.*');
    assert.equal(r.status, 422, r.body);
    assert.deepEqual(finds.at(-1), { pattern: 'a.*', opts: { limit: 20, deadline: deadlineOf() }, answered: 21 });

    r = await get('/metrics/find?query=a.s1*');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(
      (JSON.parse(r.body) as Array<{ id: string }>).map((n) => n.id),
      ['a.s1', ...Array.from({ length: 10 }, (_, i) => `a.s1${i}`)],
    );

    r = await get(`/render?target=${encodeURIComponent("seriesByTag('name=t')")}&format=json&from=-10min`);
    assert.equal(r.status, 422, r.body);
    assert.deepEqual(tagged.at(-1), { limit: 10, answered: 11 });
    r = await get(`/tags/findSeries?expr=${encodeURIComponent('name=t')}`);
    assert.equal(r.status, 422, r.body);
    assert.deepEqual(tagged.at(-1), { limit: 20, answered: 21 });
    r = await get(`/tags/findSeries?expr=${encodeURIComponent('k=~v1')}`);
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as string[]).length, 11);

    // brace groups multiply: a 125-character query of 2^21 variants is a limit, answered at once
    const braces = encodeURIComponent(`a.${'{s,t}'.repeat(21)}`);
    for (const path of [`/metrics/find?query=${braces}`, `/render?target=${braces}&format=json&from=-10min`]) {
      const t0 = Date.now();
      r = await get(path);
      assert.equal(r.status, 422, r.body);
      assert.match(r.body, /brace groups expand to more than 100000 variants/);
      assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
    }
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
