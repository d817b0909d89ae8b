// End to end with the query side: events posted to grafana_annotations are what graphite_render's
// events() function counts (both read the store that query.eventStore names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess } from '../helpers/carbonado.js';

test('events("tag", ...) in /render counts the events posted to /events/', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crb-render-events-'));
  const c = await startInProcess({
    stores: { main: { type: 'whisper', dataDir: join(dir, 'whisper') }, events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    outputs: { annotations: { type: 'grafana_annotations' }, graphite: { type: 'graphite_render' } },
    query: { store: 'main', eventStore: 'events' },
  });
  // one hook: after hooks run in the order they were added, and the store must stop before its directory goes
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const [when, tags] of [[1700000000, 'deploy hub'], [1700000300, 'deploy'], [1700000480, 'other']] as const) {
    const r = await fetch(`${c.httpUrl}/events/`, { method: 'POST', body: JSON.stringify({ what: 'e', tags, when }) });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  const total = async (target: string): Promise<number> => {
    const r = await fetch(`${c.httpUrl}/render?target=${encodeURIComponent(target)}&from=1699999000&until=1700001000&format=json&maxDataPoints=50`);
    assert.equal(r.status, 200, target);
    const [series] = (await r.json()) as Array<{ datapoints: Array<[number | null, number]> }>;
    return series!.datapoints.reduce((sum, [v]) => sum + (v ?? 0), 0);
  };
  assert.equal(await total('events("deploy")'), 2);
  assert.equal(await total('events("deploy","hub")'), 1);
  assert.equal(await total('events("*")'), 3);
  assert.equal(await total('events("nosuch")'), 0);
});
