// Differential test: the same events posted to graphite-web 1.1.8 (Debian graphite-web under
// gunicorn, the real thing) and to carbonado; the events API answers must be the same, except
// where docs/compatibility.md says they differ on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_PYTHON, hasCommand, hasPythonModule, requirePeer, SHARED_DIR } from '../helpers/peers.js';
import { startInProcess, waitFor } from '../helpers/carbonado.js';

const ANCHOR = join(SHARED_DIR, 'bench/anchors/graphite-web/start.sh');

/** Starts graphite-web on a free port; returns its URL and a stop function (by PID). */
async function startGraphiteWeb(dir: string): Promise<{ url: string; stop(): void }> {
  mkdirSync(join(dir, 'whisper'), { recursive: true });
  const res = spawnSync('bash', [ANCHOR, dir, join(dir, 'whisper'), '0', '', '1'], { encoding: 'utf8', timeout: 120_000 });
  const pid = Number(res.stdout.trim());
  if (res.status !== 0 || !pid) throw new Error(`graphite-web did not start: ${res.stderr}`);
  const stop = () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    const log = join(dir, 'log', 'gunicorn.log');
    const port = await waitFor(() => existsSync(log) && /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'))?.[1], 'graphite-web to listen', 60_000, 100);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/events/get_data`).catch(() => undefined))?.ok, 'graphite-web to answer', 60_000, 100);
    return { url, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

const EVENTS = [
  { what: 'Deploy v1', tags: ['deploy', 'hub'], data: 'first', when: 1700000000 },
  { what: 'Deploy v2', tags: 'deploy web', data: 'second', when: 1700000100 },
  { what: 'Outage', tags: 'incident hub', when: 1700000200.75 },
  { what: 'Quiet', when: 1700000300 },
  { what: 'Unicode ✓ "quoted"', tags: ['ünïcode'], data: 'line1\nline2 <b>', when: 1700000400 },
];

const SAME = [
  'from=1699999999&until=1700000500',
  'from=1700000000&until=1700000100',
  'from=1700000001&until=1700000099',
  'from=20231114&until=20231115',
  'from=22:13_20231114&until=22:15_20231114',
  'tags=deploy',
  'tags=deploy+hub',
  'tags=deploy%20hub&set=intersection',
  'tags=deploy+hub&set=union',
  'tags=hub&from=1700000100',
  'tags=nosuchtag',
  'tags=nosuchtag&set=union',
  'tags=',
  'tags=%C3%BCn%C3%AFcode',
];

test('events API answers as graphite-web 1.1.8 does', { timeout: 150_000 }, async (t) => {
  const ok = existsSync(ANCHOR) && hasCommand('bash') && hasPythonModule('graphite') && spawnSync(DEBIAN_PYTHON, ['-c', 'import gunicorn'], { stdio: 'ignore' }).status === 0;
  if (!requirePeer(t, ok, 'graphite-web gunicorn')) return;
  const dir = mkdtempSync(join(tmpdir(), 'crb-gw-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [gw, c] = await Promise.all([
    startGraphiteWeb(join(dir, 'gw')),
    startInProcess({
      stores: { events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
      outputs: { annotations: { type: 'grafana_annotations' } },
    }),
  ]);
  t.after(() => gw.stop());
  t.after(() => c.stop());

  for (const e of EVENTS) {
    for (const base of [gw.url, c.httpUrl]) {
      const r = await fetch(`${base}/events/`, { method: 'POST', body: JSON.stringify(e) });
      assert.equal(r.status, 200, `${base} ${e.what}`);
      await r.arrayBuffer();
    }
  }
  const get = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}${path}`, { headers });
    return { status: r.status, body: JSON.parse(await r.text()) as unknown };
  };
  for (const q of SAME) {
    const want = await get(gw.url, `/events/get_data?${q}`);
    assert.equal(want.status, 200, q);
    assert.deepEqual(await get(c.httpUrl, `/events/get_data?${q}`), want, q);
  }
  for (const id of [1, 3, 5]) {
    const want = await get(gw.url, `/events/${id}/`, { accept: 'application/json' });
    assert.deepEqual(await get(c.httpUrl, `/events/${id}/`), want, `detail ${id}`);
  }

  // Documented divergences (docs/compatibility.md, "Events API"):
  // an unknown tag next to a known one is ignored by graphite-web and matches nothing here,
  const mixed = 'tags=deploy+nosuchtag';
  assert.equal(((await get(gw.url, `/events/get_data?${mixed}`)).body as unknown[]).length, 2);
  assert.deepEqual((await get(c.httpUrl, `/events/get_data?${mixed}`)).body, []);
  // and a comma-separated tag string comes back split here, as one tag from graphite-web.
  for (const base of [gw.url, c.httpUrl]) {
    const r = await fetch(`${base}/events/`, { method: 'POST', body: '{"what":"commas","tags":"a,b","when":1700000500}' });
    await r.arrayBuffer();
  }
  const tagsOf = async (base: string) => ((await get(base, '/events/get_data?from=1700000500&until=1700000500')).body as { tags: string[] }[])[0]!.tags;
  assert.deepEqual(await tagsOf(gw.url), ['a,b']);
  assert.deepEqual(await tagsOf(c.httpUrl), ['a', 'b']);
  // graphite-web finds it by either tag, as carbonado does
  assert.equal(((await get(gw.url, '/events/get_data?tags=b')).body as unknown[]).length, 1);
  assert.equal(((await get(c.httpUrl, '/events/get_data?tags=b')).body as unknown[]).length, 1);
});

