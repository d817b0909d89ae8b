/**
 * Read federation: an unmodified graphite-web 1.1.8 (Debian) with CLUSTER_SERVERS = three
 * carbonado nodes renders a wildcard spanning all three exactly as one carbonado holding all the
 * data does. The data reaches the nodes the way it would in production: through a carbon_relay
 * (carbon_ch) into each node's carbon_line input and whisper store; graphite-web asks the nodes
 * `/metrics/find?local=1&format=pickle` and `/render?local=1&format=pickle`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointBatch } from '../../core/index.js';
import { CarbonRelay } from '../../plugins/stores/carbon_relay/relay.js';
import { portOf, startInProcess, waitFor, type InProcess } from '../helpers/carbonado.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';
import { ctxFor, relayOptions } from './context.js';
import { freePort } from '../helpers/ports.js';

async function node(dataDir: string): Promise<InProcess> {
  return startInProcess({
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { whisper: { type: 'whisper', dataDir, schemas: [{ name: 'all', pattern: '.*', retentions: '60s:1d' }] } },
    outputs: { graphite: { type: 'graphite_render' } },
  });
}

function settings(dir: string, cluster: string[]): void {
  // graphite-web's own settings for this test: no local data, three cluster servers
  writeFileSync(
    join(dir, 'fed_local_settings.py'),
    [
      'import os',
      "SECRET_KEY = 'test-only'",
      "ALLOWED_HOSTS = ['127.0.0.1', 'localhost']",
      "GRAPHITE_ROOT = '/usr/share/graphite-web'",
      "STATIC_ROOT = '/usr/share/graphite-web/static'",
      `STORAGE_DIR = ${JSON.stringify(dir)}`,
      "LOG_DIR = os.path.join(STORAGE_DIR, 'log')",
      "INDEX_FILE = os.path.join(STORAGE_DIR, 'index')",
      "WHISPER_DIR = os.path.join(STORAGE_DIR, 'whisper')",
      'STANDARD_DIRS = [WHISPER_DIR]',
      'CONF_DIR = STORAGE_DIR',
      "TAGDB = ''",
      'CARBONLINK_HOSTS = []',
      `CLUSTER_SERVERS = ${JSON.stringify(cluster)}`,
      "DATABASES = {'default': {'NAME': os.path.join(STORAGE_DIR, 'graphite.db'), 'ENGINE': 'django.db.backends.sqlite3'}}",
      '',
    ].join('\n'),
  );
}

interface JsonSeries {
  target: string;
  datapoints: Array<[number | null, number]>;
}

test('graphite-web with CLUSTER_SERVERS = three carbonado nodes renders like one node', { timeout: 120_000 }, async (t) => {
  if (!requirePeer(t, hasPythonModule('graphite.settings') && hasPythonModule('gunicorn'), 'graphite-web')) return;
  const root = mkdtempSync(join(tmpdir(), 'relay-fed-'));
  const nodes: InProcess[] = [];
  let gw: ChildProcess | undefined;
  const relay = { instance: undefined as CarbonRelay | undefined };
  try {
    for (let i = 0; i < 4; i++) nodes.push(await node(join(root, `node${i}`)));
    const [a, b, c, single] = nodes as [InProcess, InProcess, InProcess, InProcess];
    const linePort = (n: InProcess): number => portOf(n.listening('inputs.carbon'), 'tcp').port;
    const destinations = [a, b, c].map((n, i) => `127.0.0.1:${linePort(n)}=${'abc'[i]}`);
    relay.instance = new CarbonRelay(ctxFor('stores.shards'), relayOptions({ destinations, overflow: 'drop_oldest' }));
    const all = new CarbonRelay(ctxFor('stores.single'), relayOptions({ destinations: [`127.0.0.1:${linePort(single)}`], overflow: 'drop_oldest' }));
    await relay.instance.start();
    await all.start();

    const t0 = Math.floor(Date.now() / 1000 / 60) * 60 - 30 * 60;
    const points: Array<[string, number, number]> = [];
    for (let h = 0; h < 12; h++) for (let k = 0; k < 20; k++) if ((h + k) % 7 !== 0) points.push([`fed.host${h}.cpu`, h * 10 + k / 4, t0 + k * 60]);
    const batch = pointBatch(points);
    relay.instance.write(batch);
    all.write(batch);
    await relay.instance.stop();
    await all.stop();

    // graphite-web, pointed at the three shards only
    const gwDir = join(root, 'gw');
    mkdirSync(join(gwDir, 'log'), { recursive: true });
    mkdirSync(join(gwDir, 'whisper'), { recursive: true });
    settings(gwDir, [a, b, c].map((n) => n.httpUrl.replace(/^http:\/\//, '')));
    const env = { ...process.env, PYTHONPATH: gwDir, GRAPHITE_SETTINGS_MODULE: 'fed_local_settings', DJANGO_SETTINGS_MODULE: 'graphite.settings' };
    const mig = spawnSync(DEBIAN_PYTHON, ['-m', 'django', 'migrate', '--noinput'], { env, encoding: 'utf8' });
    assert.equal(mig.status, 0, mig.stderr);
    const gwPort = await freePort();
    gw = spawn(DEBIAN_PYTHON, ['-m', 'gunicorn', '--bind', `127.0.0.1:${gwPort}`, '--workers', '1', '--timeout', '60', 'graphite.wsgi:application'], { env, stdio: 'ignore' });
    const gwUrl = `http://127.0.0.1:${gwPort}`;
    await waitFor(async () => (await fetch(`${gwUrl}/version`).catch(() => undefined))?.ok, 'graphite-web up', 30_000, 200);

    const q = `target=fed.*.cpu&format=json&from=${t0 - 60}&until=${t0 + 20 * 60}`;
    const want = await waitFor(async () => {
      const s = (await (await fetch(`${single.httpUrl}/render?${q}`)).json()) as JsonSeries[];
      const known = s.reduce((n, x) => n + x.datapoints.filter(([v]) => v !== null).length, 0);
      return s.length === 12 && known === points.length ? s : undefined;
    }, 'the single node holds every series', 15_000, 100);
    const got = (await (await fetch(`${gwUrl}/render?${q}`)).json()) as JsonSeries[];
    const byTarget = (s: JsonSeries[]): JsonSeries[] => [...s].sort((x, y) => (x.target < y.target ? -1 : 1));
    assert.deepEqual(byTarget(got), byTarget(want!));
    const nonNull = got.reduce((n, s) => n + s.datapoints.filter(([v]) => v !== null).length, 0);
    assert.equal(nonNull, points.length, 'every relayed point is rendered through the cluster');

    // functions run in graphite-web over the series it fetched from the nodes
    for (const target of ['sumSeries(fed.*.cpu)', 'aliasByNode(fed.host1*.cpu,1)']) {
      const fq = `target=${encodeURIComponent(target)}&format=json&from=${t0 - 60}&until=${t0 + 20 * 60}`;
      const viaCluster = (await (await fetch(`${gwUrl}/render?${fq}`)).json()) as JsonSeries[];
      const single1 = (await (await fetch(`${single.httpUrl}/render?${fq}`)).json()) as JsonSeries[];
      assert.deepEqual(byTarget(viaCluster), byTarget(single1), target);
    }

    // the tree through the cluster, too
    const find = (await (await fetch(`${gwUrl}/metrics/find?query=fed.*&format=treejson`)).json()) as Array<{ text: string }>;
    assert.deepEqual(find.map((f) => f.text).sort(), Array.from({ length: 12 }, (_, h) => `host${h}`).sort());
  } finally {
    if (gw?.pid) process.kill(gw.pid, 'SIGTERM');
    for (const n of nodes) await n.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
