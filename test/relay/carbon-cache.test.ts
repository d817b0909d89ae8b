/**
 * Relay over pickle into Debian's carbon-cache 1.1.7 (the shared anchor launcher): carbon's own
 * pickle receiver accepts the frames and whisper files appear with the values sent, read back
 * with Python whisper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointBatch } from '../../core/index.js';
import { CarbonRelay } from '../../plugins/stores/carbon_relay/relay.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer, SHARED_DIR } from '../helpers/peers.js';
import { waitFor } from '../helpers/carbonado.js';
import { ctxFor, relayOptions } from './context.js';
import { freePort } from '../helpers/ports.js';

const LAUNCHER = join(SHARED_DIR, 'bench/anchors/carbon/start.sh');

test('pickle frames from the relay are stored by carbon-cache', { timeout: 90_000 }, async (t) => {
  if (!requirePeer(t, hasPythonModule('carbon') && hasPythonModule('whisper'), 'graphite-carbon')) return;
  if (!existsSync(LAUNCHER)) return t.skip('the shared bench launcher is not here');
  const dir = mkdtempSync(join(tmpdir(), 'relay-carbon-'));
  const [line, pickle, query] = [await freePort(), await freePort(), await freePort()];
  const pid = Number(spawnSync(LAUNCHER, [dir, String(line), String(pickle), String(query)], { encoding: 'utf8' }).stdout.trim());
  assert.ok(pid > 0);
  const ctx = ctxFor();
  const relay = new CarbonRelay(ctx, relayOptions({ destinations: [`127.0.0.1:${pickle}`], protocol: 'pickle', overflow: 'drop_oldest', reconnectMinMs: 100, reconnectMaxMs: 500 }));
  try {
    await relay.start();
    const t0 = Math.floor(Date.now() / 1000 / 10) * 10 - 600;
    const points: Array<[string, number, number]> = [];
    for (let s = 0; s < 30; s++) for (let k = 0; k < 40; k++) points.push([`relay.cc.s${s}`, s + k / 8, t0 + k * 10]);
    relay.write(pointBatch(points));
    const wsp = join(dir, 'storage', 'whisper', 'relay', 'cc', 's29.wsp');
    await waitFor(() => existsSync(wsp) && existsSync(join(dir, 'storage', 'whisper', 'relay', 'cc', 's0.wsp')), 'whisper files from carbon-cache', 60_000, 200);
    const py = `
import sys, whisper
(start, end, step), vals = whisper.fetch(sys.argv[1], ${t0 - 10}, ${t0 + 400})
print(step, len([v for v in vals if v is not None]), vals[0], vals[39])
`;
    const out = await waitFor(() => {
      const r = spawnSync(DEBIAN_PYTHON, ['-c', py, wsp], { encoding: 'utf8' });
      return r.status === 0 && r.stdout.startsWith('10 40 ') ? r.stdout.trim() : undefined;
    }, 'all 40 points in s29.wsp', 30_000, 250);
    assert.equal(out, '10 40 29.0 33.875');
    assert.equal(ctx.stats.snapshot().counters.sent, points.length);
  } finally {
    await relay.stop();
    process.kill(pid, 'SIGTERM');
    await waitFor(() => spawnSync('kill', ['-0', String(pid)]).status !== 0, 'carbon-cache exit', 15_000).catch(() => process.kill(pid, 'SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  }
});
