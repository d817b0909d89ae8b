// JupyterHub 0.6-5.x sends StatsD through the Python `statsd` package's StatsClient. This drives
// that very client (Debian python3-statsd) with the calls JupyterHub's handlers make, and checks
// that the names the dashboard queries come out of carbonado with the right values.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinPlugins } from '../../plugins/index.js';
import { portOf, startInProcess, waitFor } from '../helpers/carbonado.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';

// The calls of JupyterHub 5.x (handlers/base.py, handlers/login.py, app.py, user.py), prefix 'jupyterhub'.
const HUB = `
import sys
from statsd import StatsClient
s = StatsClient(sys.argv[1], int(sys.argv[2]), prefix='jupyterhub')
s.gauge('users.running', 5)
s.gauge('users.active', 7)
s.incr('login.request')
s.incr('login.success')
s.incr('login.failure')
s.timing('login.authenticate.success', 120)
s.timing('spawner.success', 7250)
s.timing('spawner.success', 2750)
s.timing('spawner.failure', 30000)
s.incr('spawner.failure.timeout')
s.incr('spawner.failure.error')
s.incr('spawner.failure.error')
s.incr('redirects.user_after_login')
`;

async function last(base: string, target: string): Promise<Map<string, number>> {
  const res = await fetch(`${base}/render?${new URLSearchParams({ target, from: '-10min', format: 'json' })}`);
  assert.equal(res.status, 200, target);
  const out = new Map<string, number>();
  for (const s of (await res.json()) as Array<{ target: string; datapoints: Array<[number | null, number]> }>) {
    // sum over the window: the two flushes may split the datagrams
    const total = s.datapoints.reduce((a, [v]) => a + (v ?? 0), 0);
    if (s.datapoints.some(([v]) => v !== null)) out.set(s.target, total);
  }
  return out;
}

test("JupyterHub's own StatsD client → the dashboard's StatsD series", { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, hasPythonModule('statsd'), 'python3-statsd')) return;
  const needed = ['statsd_udp', 'statsd', 'whisper', 'graphite_render'];
  const missing = needed.filter((n) => !builtinPlugins.some((p) => p.name === n));
  if (missing.length > 0) {
    t.skip(`plugins not registered yet: ${missing.join(', ')}`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'jh-statsd-'));
  const c = await startInProcess({
    inputs: { statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
    aggregators: { statsd: { type: 'statsd', flushIntervalMs: 1000, percentThresholds: [50, 90, 99] } },
    stores: { main: { type: 'whisper', dataDir: join(dir, 'whisper'), schemas: [{ name: 'all', pattern: '.*', retentions: '1s:1h' }] } },
    outputs: { graphite: { type: 'graphite_render' } },
    query: { store: 'main' },
  });
  try {
    const { host, port } = portOf(c.listening('inputs.statsd'), 'udp');
    const py = spawnSync(DEBIAN_PYTHON, ['-c', HUB, host, String(port)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(py.status, 0, py.stderr);
    const expect: Array<[string, Record<string, number>]> = [
      ['stats.gauges.jupyterhub.users.{running,active}', { 'stats.gauges.jupyterhub.users.running': 5, 'stats.gauges.jupyterhub.users.active': 7 }],
      ['stats_counts.jupyterhub.login.{success,failure}', { 'stats_counts.jupyterhub.login.success': 1, 'stats_counts.jupyterhub.login.failure': 1 }],
      ['stats_counts.jupyterhub.spawner.failure.*', { 'stats_counts.jupyterhub.spawner.failure.timeout': 1, 'stats_counts.jupyterhub.spawner.failure.error': 2 }],
      ['stats.timers.jupyterhub.spawner.success.upper_99', { 'stats.timers.jupyterhub.spawner.success.upper_99': 7250 }],
      ['stats.timers.jupyterhub.spawner.success.count', { 'stats.timers.jupyterhub.spawner.success.count': 2 }],
      ['stats.timers.jupyterhub.login.authenticate.success.median', { 'stats.timers.jupyterhub.login.authenticate.success.median': 120 }],
    ];
    for (const [target, want] of expect) {
      await waitFor(
        async () => {
          const got = await last(c.httpUrl, target);
          // gauges are re-sent every flush: compare their latest value, not the sum
          return Object.entries(want).every(([k, v]) => (k.includes('.gauges.') ? got.has(k) : got.get(k) === v));
        },
        `${target} = ${JSON.stringify(want)}`,
        15_000,
        200,
      );
    }
    const gauges = await fetch(`${c.httpUrl}/render?${new URLSearchParams({ target: 'stats.gauges.jupyterhub.users.running', from: '-10min', format: 'json' })}`);
    const points = ((await gauges.json()) as Array<{ datapoints: Array<[number | null, number]> }>)[0]!.datapoints.filter(([v]) => v !== null);
    assert.equal(points.at(-1)![0], 5);
  } finally {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
