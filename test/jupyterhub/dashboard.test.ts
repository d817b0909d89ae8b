// The bundled Grafana dashboard against a real carbonado: StatsD + log tail + /hub/metrics scrape
// fed by the simulator, Whisper storage, and every panel target asked through POST /render the
// way Grafana asks. A target that fails to parse or returns nothing fails the test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { simulateJupyterhub } from '../../cli/simulate/jupyterhub.js';
import type { PluginManifest } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { portOf, startInProcess, waitFor } from '../helpers/carbonado.js';

/** The plugins the test needs, and where each lives (used while one is not yet in plugins/index.ts). */
const NEEDED: Record<string, string> = {
  statsd_udp: '../../plugins/inputs/statsd_udp/index.js',
  statsd: '../../plugins/aggregators/statsd/index.js',
  log_tail: '../../plugins/inputs/log_tail/index.js',
  prometheus_scrape: '../../plugins/inputs/prometheus_scrape/index.js',
  whisper: '../../plugins/stores/whisper/index.js',
  graphite_render: '../../plugins/outputs/graphite_render/index.js',
  sqlite_events: '../../plugins/stores/sqlite_events/index.js',
  grafana_annotations: '../../plugins/outputs/grafana_annotations/index.js',
};
const TOKEN = 'dashboard-test-token';

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ target: string }>;
}

/** Every panel target, with the dashboard variables set to All, as Grafana sends them. */
function dashboardTargets(): Array<{ panel: string; target: string }> {
  const dash = JSON.parse(readFileSync(new URL('../../dashboards/jupyterhub.json', import.meta.url), 'utf8')) as { panels: Panel[] };
  const out: Array<{ panel: string; target: string }> = [];
  for (const p of dash.panels) {
    for (const t of p.targets ?? []) out.push({ panel: p.title, target: t.target.replace(/\$host|\$route/g, '*') });
  }
  return out;
}

async function render(base: string, target: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}/render`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ target, from: '-15min', until: 'now', format: 'json', maxDataPoints: '500' }).toString(),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* left as text for the failure message */
  }
  return { status: res.status, body };
}

function hasData(body: unknown): boolean {
  return Array.isArray(body) && body.some((s: { datapoints?: Array<[number | null, number]> }) => s.datapoints?.some(([v]) => v !== null));
}

test('every target of dashboards/jupyterhub.json returns series from carbonado fed by the simulator', { timeout: 90_000 }, async (t) => {
  const plugins: PluginManifest[] = [...builtinPlugins];
  const missing: string[] = [];
  for (const [name, path] of Object.entries(NEEDED)) {
    if (plugins.some((p) => p.name === name)) continue;
    try {
      plugins.push(((await import(path)) as { default: PluginManifest }).default);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    t.skip(`plugins not available yet: ${missing.join(', ')}`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'jupyterhub-dash-'));
  const logFile = join(dir, 'jupyterhub.log');
  await writeFile(logFile, '');
  // The scrape URL must be in the config before the simulator (which needs carbonado's StatsD
  // port) serves /hub/metrics: a forwarding endpoint on port 0 bridges the two.
  let upstream: string | undefined;
  const bridge: Server = createServer((req, res) => {
    if (upstream === undefined) return void res.writeHead(503).end();
    fetch(upstream, { headers: { authorization: req.headers.authorization ?? '' } }).then(
      async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(await r.text()),
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((r) => bridge.listen(0, '127.0.0.1', r));
  const bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}/hub/metrics`;

  const c = await startInProcess(
    {
    selfMetrics: { prefix: 'carbonado.{hostname}.', intervalSecs: 1 },
    inputs: {
      statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 },
      hub_log: { type: 'log_tail', files: [logFile], startAt: 'beginning', pollIntervalMs: 100 },
      hub_metrics: { type: 'prometheus_scrape', url: bridgeUrl, intervalMs: 500, timeoutMs: 400, bearerToken: TOKEN },
    },
    aggregators: { statsd: { type: 'statsd', flushIntervalMs: 1000, percentThresholds: [50, 90, 99] } },
    stores: {
      main: { type: 'whisper', dataDir: join(dir, 'whisper'), schemas: [{ name: 'all', pattern: '.*', retentions: '1s:1h' }] },
      events: { type: 'sqlite_events', path: join(dir, 'events.db') },
    },
    outputs: { graphite: { type: 'graphite_render' }, annotations: { type: 'grafana_annotations' } },
    query: { store: 'main', eventStore: 'events' },
    },
    { plugins },
  );
  try {
    const statsd = portOf(c.listening('inputs.statsd'), 'udp');
    const sim = await simulateJupyterhub({
      users: 40,
      durationMs: 6000,
      tickMs: 100,
      logFile,
      statsd: `${statsd.host}:${statsd.port}`,
      metricsListen: '127.0.0.1:0',
      metricsToken: TOKEN,
      prefix: 'jupyterhub',
      seed: 7,
      onMetricsUrl: (u) => (upstream = u),
    });
    assert.ok(sim.logins > 0 && sim.spawnFailures > 0 && sim.scrapes > 0, JSON.stringify(sim));

    const targets = dashboardTargets();
    assert.ok(targets.length >= 25);
    const pending = new Map(targets.map((x) => [x.target, x.panel]));
    const last = new Map<string, unknown>();
    try {
      await waitFor(
        async () => {
          for (const target of [...pending.keys()]) {
            const r = await render(c.httpUrl, target);
            last.set(target, r.status === 200 ? r.body : `HTTP ${r.status}: ${JSON.stringify(r.body)}`);
            if (r.status === 200 && hasData(r.body)) pending.delete(target);
          }
          return pending.size === 0;
        },
        'every dashboard target to return data',
        30_000,
        500,
      );
    } catch {
      const report = [...pending].map(([target, panel]) => `${panel}: ${target} -> ${JSON.stringify(last.get(target)).slice(0, 200)}`);
      assert.fail(`targets without data:\n${report.join('\n')}`);
    }
    // the deployment annotation: an event posted as a deploy script would, read as Grafana does
    const dash = JSON.parse(readFileSync(new URL('../../dashboards/jupyterhub.json', import.meta.url), 'utf8'));
    const deploy = dash.annotations.list.find((a: { name: string }) => a.name === 'Deployments');
    const post = await fetch(`${c.httpUrl}/events/`, { method: 'POST', body: JSON.stringify({ what: 'Deployed hub v2', tags: ['deploy', 'hub'] }) });
    assert.equal(post.status, 200);
    const got = (await (await fetch(`${c.httpUrl}/events/get_data?from=-1h&until=now&tags=${deploy.target.tags.join('+')}`)).json()) as Array<{ what: string }>;
    assert.deepEqual(got.map((e) => e.what), ['Deployed hub v2']);
    // the variable queries resolve too
    for (const q of ['carbonado.*', 'stats.timers.jupyterhub.routes.*']) {
      const res = await fetch(`${c.httpUrl}/metrics/find?query=${encodeURIComponent(q)}`);
      const nodes = (await res.json()) as unknown[];
      assert.ok(nodes.length > 0, q);
    }
  } finally {
    await c.stop();
    bridge.closeAllConnections();
    await new Promise((r) => bridge.close(r));
    await rm(dir, { recursive: true, force: true });
  }
});
