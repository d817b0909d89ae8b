// The whole StatsD path in a spawned carbonado, as an operator runs it: Python's statsd client →
// statsd_udp → statsd aggregator → whisper store → graphite_render. SIGTERM must flush what the
// aggregator holds so that, after a restart on the same data directory, /render shows every count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { spawnCarbonado, portOf } from '../helpers/carbonado.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';

test('python statsd → whisper, SIGTERM before the flush boundary, restart: /render shows every count', async (t) => {
  if (!requirePeer(t, hasPythonModule('statsd'), 'python3-statsd')) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'carbonado-statsd-e2e-'));
  const config = {
    inputs: { statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
    aggregators: { statsd: { type: 'statsd', flushIntervalMs: 10_000 } },
    stores: { whisper: { type: 'whisper', dataDir } },
    outputs: { graphite: { type: 'graphite_render' } },
  };
  const first = await spawnCarbonado(config);
  const { port } = portOf(first.listening('inputs.statsd'), 'udp');
  const script = `
import statsd
c = statsd.StatsClient('127.0.0.1', ${port})
for i in range(250):
    c.incr('e2e.hits')
c.gauge('e2e.level', 42)
c.timing('e2e.latency', 12)
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // wait until the input has read every datagram, then stop (most likely mid-interval)
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = (await (await fetch(`${first.httpUrl}/stats`)).json()) as { instances: Record<string, { counters: Record<string, number> }> };
    if (s.instances['inputs.statsd']!.counters.metrics_received === 252) break;
    assert.ok(Date.now() < deadline, 'datagrams not all received');
    await new Promise((res) => setTimeout(res, 25));
  }
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());

  const second = await spawnCarbonado(config);
  try {
    // The final flush is stamped with the end of the interval it cut short (the only stamp that
    // cannot overwrite the previous flush's slot), and graphite never returns future points: poll
    // until that boundary has passed (at most 10 s).
    type Series = Array<{ target: string; datapoints: Array<[number | null, number]> }>;
    const sum = (b: Series, name: string) => (b.find((s) => s.target === name)?.datapoints ?? []).reduce((a, [v]) => a + (v ?? 0), 0);
    let body: Series = [];
    const until = Date.now() + 20_000;
    for (;;) {
      const now = Math.floor(Date.now() / 1000);
      const url = `${second.httpUrl}/render?target=stats_counts.e2e.hits&target=stats.gauges.e2e.level&from=${now - 300}&until=${now + 60}&format=json`;
      body = (await (await fetch(url)).json()) as Series;
      if (sum(body, 'stats_counts.e2e.hits') >= 250 || Date.now() > until) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(sum(body, 'stats_counts.e2e.hits'), 250);
    // a gauge is re-sent every flush: check its value, not a sum
    assert.ok(body.find((s) => s.target === 'stats.gauges.e2e.level')!.datapoints.some(([v]) => v === 42));
    // every point sits on a 10 s boundary
    for (const s of body) for (const [v, ts] of s.datapoints) if (v !== null) assert.equal(ts % 10, 0);
  } finally {
    second.kill('SIGTERM');
    await second.exited;
  }
});
