// The simulator's output is what the JupyterHub inputs accept: every hub log line is recognised
// by the jupyterhub rules (only the proxy's [ConfigProxy] lines are unmatched), every StatsD
// line is well-formed, and /hub/metrics parses strictly. Also: the example config validates.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { simulateJupyterhub } from '../../cli/simulate/jupyterhub.js';
import { readConfigFile } from '../../core/config/load.js';
import { InstanceStats, Logger } from '../../core/index.js';
import { validateConfig } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';
import { JupyterhubRules } from '../../plugins/inputs/log_tail/jupyterhub-rules.js';
import { LineProcessor } from '../../plugins/inputs/log_tail/line-processor.js';
import { parseExposition } from '../../plugins/inputs/prometheus_scrape/exposition.js';
import { REPO_ROOT } from '../helpers/carbonado.js';

test('simulator output: hub log lines, StatsD lines and /hub/metrics are all accepted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sim-'));
  const udp = createSocket('udp4');
  const statsdLines: string[] = [];
  udp.on('message', (m) => statsdLines.push(...m.toString().split('\n')));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const bodies: string[] = [];
  try {
    const logFile = join(dir, 'hub.log');
    let statusWithoutToken = 0;
    const r = await simulateJupyterhub({
      users: 25,
      durationMs: 1500,
      tickMs: 50,
      logFile,
      statsd: `127.0.0.1:${(udp.address() as AddressInfo).port}`,
      metricsListen: '127.0.0.1:0',
      metricsToken: 'tok',
      prefix: 'jupyterhub',
      seed: 3,
      onMetricsUrl: (url) => {
        // scrape it while the simulation runs
        setTimeout(async () => {
          statusWithoutToken = (await fetch(url)).status;
          bodies.push(await (await fetch(url, { headers: { authorization: 'Bearer tok' } })).text());
        }, 800);
      },
    });
    assert.ok(r.ticks > 5 && r.logins > 0 && r.spawns > 0, JSON.stringify(r));
    assert.equal(statusWithoutToken, 403);

    const lines = (await readFile(logFile, 'utf8')).split('\n');
    lines.pop();
    assert.equal(lines.length, r.logLines);
    const stats = new InstanceStats('t');
    let samples = 0;
    const proc = new LineProcessor([new JupyterhubRules('jupyterhub')], [], { add: () => void samples++ }, stats, new Logger('t', 'error'));
    for (const l of lines) proc.line(l);
    const proxyLines = lines.filter((l) => l.includes('[ConfigProxy]')).length;
    assert.equal(stats.counters.get('lines_unmatched') ?? 0, proxyLines);
    assert.ok(samples > lines.length);

    await new Promise((res) => setTimeout(res, 50)); // last datagrams
    assert.ok(statsdLines.length > 0);
    for (const l of statsdLines) assert.match(l, /^jupyterhub\.[a-z_.]+:\d+(\.\d+)?\|(c|ms|g)$/, l);
    assert.equal(bodies.length, 1);
    const exposed = parseExposition(bodies[0]!);
    assert.ok(exposed.some((s) => s.name === 'jupyterhub_running_servers'));
    assert.ok(exposed.some((s) => s.name === 'jupyterhub_request_duration_seconds_bucket'));
  } finally {
    udp.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('config/examples/jupyterhub.yaml validates against every plugin schema', async (t) => {
  const file = join(REPO_ROOT, 'config', 'examples', 'jupyterhub.yaml');
  const cfg = await readConfigFile(file);
  const types = new Set<string>();
  for (const section of ['inputs', 'aggregators', 'stores', 'outputs']) {
    for (const inst of Object.values((cfg as Record<string, Record<string, { type: string }>>)[section] ?? {})) types.add(inst.type);
  }
  const missing = [...types].filter((ty) => !builtinPlugins.some((p) => p.name === ty));
  if (missing.length > 0) {
    t.skip(`plugins not registered yet: ${missing.join(', ')}`);
    return;
  }
  await validateConfig(cfg, { plugins: builtinPlugins, file });
});
