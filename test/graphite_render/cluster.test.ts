// graphite-web 1.1.8 as a cluster frontend over carbonado: it reads carbonado's
// /metrics/find?local=1&format=pickle and /render?local=1&format=pickle with its own RemoteFinder /
// RemoteReader and SafeUnpickler, by GET (its default) and by POST (REMOTE_STORE_USE_POST, multipart).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasPythonModule, requirePeer } from '../helpers/peers.js';
import { NOW } from './cases.js';
import { hasGraphiteWeb, makeFixture, startCarbonado, startGraphiteWeb } from './support.js';

test('graphite-web reads carbonado as a cluster member (pickle find and render)', { timeout: 120_000 }, async (t) => {
  if (!requirePeer(t, hasPythonModule('whisper'), 'python3-whisper')) return;
  if (!requirePeer(t, hasGraphiteWeb, 'graphite-web gunicorn')) return;
  const dir = makeFixture();
  const app = await startCarbonado(dir);
  const scratch = mkdtempSync(join(tmpdir(), 'carbonado-gr-gw-'));
  try {
    const member = new URL(app.httpUrl).host;
    const direct = async (path: string) => (await fetch(`${app.httpUrl}${path}`)).json();
    for (const usePost of [false, true]) {
      const gw = await startGraphiteWeb('', { cluster: member, usePost, scratch });
      try {
        const find = '/metrics/find?query=servers.web01.*.*';
        assert.deepEqual(await (await fetch(`${gw.url}${find}`)).json(), await direct(find), `find via ${usePost ? 'POST' : 'GET'}`);
        const render = `/render?format=json&now=${NOW}&from=-30min&target=${encodeURIComponent('sumSeries(servers.*.cpu.user)')}&target=servers.web03.cpu.idle`;
        const theirs = await (await fetch(`${gw.url}${render}`)).json();
        assert.deepEqual(theirs, await direct(render), `render via ${usePost ? 'POST' : 'GET'}`);
        assert.equal((theirs as unknown[]).length, 2);
      } finally {
        gw.stop();
      }
    }
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});
