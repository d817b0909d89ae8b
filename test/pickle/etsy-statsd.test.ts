// End to end with Etsy statsd 0.9.0 (npm `statsd`) flushing to carbonado's carbon_pickle port with
// `graphiteProtocol: 'pickle'`: its hand-built protocol-0 frames (values as strings, LONG
// timestamps) must decode to the counters statsd computed. The package is not a dependency of
// carbonado: point ETSY_STATSD_DIR at an install (`npm install statsd@0.9.0`), else this skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess, portOf, waitFor, REPO_ROOT } from '../helpers/carbonado.js';
import { freePort } from '../helpers/ports.js';

const RECORDING = join(REPO_ROOT, 'test/fixtures/plugins/recording-store.mjs');
const STATSD = process.env.ETSY_STATSD_DIR ?? '/tmp/etsy-statsd/node_modules/statsd';

interface Recording {
  points: Array<[string, number, number]>;
}

test('Etsy statsd with graphiteProtocol pickle: flushed counters and gauges arrive', async (t) => {
  if (!existsSync(join(STATSD, 'stats.js'))) {
    if (process.env.CI === 'true') throw new Error(`peer missing in CI: Etsy statsd 0.9.0 not found at ${STATSD} (.ci/run installs it)`);
    t.skip(`needs Etsy statsd 0.9.0: set ETSY_STATSD_DIR (not found at ${STATSD})`);
    return;
  }
  const c = await startInProcess({
    plugins: [RECORDING],
    inputs: { pickle: { type: 'carbon_pickle', host: '127.0.0.1', port: 0 } },
    stores: { rec: { type: 'recording_store' } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-etsy-'));
  let statsd: ChildProcess | undefined;
  try {
    const udpPort = await freePort('udp');
    const mgmtPort = await freePort('tcp');
    const config = join(dir, 'config.js');
    writeFileSync(config, JSON.stringify({
      address: '127.0.0.1',
      port: udpPort,
      mgmt_address: '127.0.0.1',
      mgmt_port: mgmtPort,
      flushInterval: 500,
      backends: ['./backends/graphite'],
      graphiteHost: '127.0.0.1',
      graphiteProtocol: 'pickle',
      graphitePicklePort: portOf(c.listening('inputs.pickle'), 'tcp').port,
      graphite: { legacyNamespace: true },
      automaticConfigReload: false,
    }));
    let out = '';
    statsd = spawn(process.execPath, ['stats.js', config], { cwd: STATSD, stdio: ['ignore', 'pipe', 'pipe'] });
    statsd.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    statsd.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => {
      if (statsd!.exitCode !== null) throw new Error(`statsd exited: ${out}`);
      return /server is up/.test(out);
    }, 'statsd up', 20_000, 50);

    const sock = createSocket('udp4');
    const send = (line: string) => new Promise<void>((r) => sock.send(line, udpPort, '127.0.0.1', () => r()));
    const rec0 = c.runtime.instance<Recording>('stores.rec')!;
    // statsd logs "server is up" before its UDP socket is surely bound: a gauge (idempotent) is
    // sent until a flush carries it, then the counted lines are sent once
    await waitFor(async () => {
      await send('pk.etsy.probe:1|g');
      return rec0.points.some((p) => p[0] === 'stats.gauges.pk.etsy.probe');
    }, 'statsd to receive and flush', 60_000, 250);
    await send('pk.etsy.hits:7|c');
    await send('pk.etsy.level:-2.5|g');
    sock.close();

    const rec = c.runtime.instance<Recording>('stores.rec')!;
    const find = (name: string) => rec.points.find((p) => p[0] === name);
    await waitFor(() => find('stats_counts.pk.etsy.hits') && find('stats.gauges.pk.etsy.level'), 'flushed metrics', 60_000, 50);
    assert.equal(find('stats_counts.pk.etsy.hits')![1], 7);
    assert.equal(find('stats.pk.etsy.hits')![1], 14); // 7 per 0.5 s flush, as a per-second rate
    assert.equal(find('stats.gauges.pk.etsy.level')![1], -2.5);
    const ts = find('stats_counts.pk.etsy.hits')![2];
    assert.ok(Math.abs(ts - Date.now() / 1000) < 60, `timestamp ${ts} is now`);
    assert.equal(c.stats().instances['inputs.pickle']!.droppedTotal, 0);
  } finally {
    statsd?.kill('SIGTERM');
    if (statsd && statsd.exitCode === null) await new Promise((r) => statsd!.on('exit', r));
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
