// Black-box: a spawned carbonado keeps its events across a crash (SIGKILL right after the 200)
// and a graceful stop. The graceful close-and-reopen of the file is also covered by the store's
// own test; SIGKILL is the stronger promise, so it is the one exercised on a real process here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, type Spawned } from '../helpers/carbonado.js';

async function events(c: Spawned): Promise<Array<{ id: number; what: string; tags: string[]; data: string; when: number }>> {
  const r = await fetch(`${c.httpUrl}/events/get_data`);
  return (await r.json()) as never;
}

async function post(c: Spawned, body: unknown): Promise<number> {
  const r = await fetch(`${c.httpUrl}/events/`, { method: 'POST', body: JSON.stringify(body) });
  await r.arrayBuffer();
  return r.status;
}

test('events survive SIGKILL and SIGTERM of a spawned carbonado', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crb-events-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = {
    stores: { events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    outputs: { annotations: { type: 'grafana_annotations' } },
  };

  const first = await spawnCarbonado(config, { timeoutMs: 60_000 });
  t.after(() => first.kill('SIGKILL'));
  assert.equal(await post(first, { what: 'Deployed v2.3', tags: 'deploy,hub', data: 'commit abc', when: 1700000000 }), 200);
  assert.equal(await post(first, { what: 'Rollback', when: 1700000100 }), 200);
  // acknowledged means durable (synchronous=full): a SIGKILL right after the 200 loses nothing
  first.kill('SIGKILL');
  await first.exited;

  const second = await spawnCarbonado(config, { timeoutMs: 60_000 });
  t.after(() => second.kill('SIGKILL'));
  assert.deepEqual(
    (await events(second)).map((e) => [e.id, e.what, e.when, e.tags, e.data]),
    [
      [1, 'Deployed v2.3', 1700000000, ['deploy', 'hub'], 'commit abc'],
      [2, 'Rollback', 1700000100, [], ''],
    ],
  );
  assert.equal(await post(second, { what: 'after the crash', tags: ['x'], when: 1700000200 }), 200);
  second.kill('SIGTERM');
  assert.equal(await second.exited, 0);

  const third = await spawnCarbonado(config, { timeoutMs: 60_000 });
  t.after(() => third.kill('SIGKILL'));
  assert.deepEqual((await events(third)).map((e) => e.id), [1, 2, 3]);
  assert.deepEqual((await fetch(`${third.httpUrl}/events/get_data?tags=x`).then((r) => r.json())) as unknown, [
    { when: 1700000200, what: 'after the crash', data: '', tags: ['x'], id: 3 },
  ]);
});
