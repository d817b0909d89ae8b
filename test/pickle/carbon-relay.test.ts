// End to end with Graphite's own carbon-relay (Debian graphite-carbon): lines sent to the relay's
// plaintext port are forwarded by the relay, as pickle frames of up to 500 points, to carbonado's
// carbon_pickle port, and must arrive in the store with exactly the values sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess, portOf, waitFor, REPO_ROOT } from '../helpers/carbonado.js';
import { DEBIAN_PYTHON, requirePeer } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';

const RECORDING = join(REPO_ROOT, 'test/fixtures/plugins/recording-store.mjs');
const RELAY = '/usr/bin/carbon-relay';

interface Recording {
  points: Array<[string, number, number]>;
}

function relayConf(dir: string, linePort: number, picklePort: number, destPort: number): string {
  return `[cache]
STORAGE_DIR = ${dir}/storage/
LOCAL_DATA_DIR = ${dir}/storage/whisper/
WHITELISTS_DIR = ${dir}/storage/lists/
CONF_DIR = ${dir}/conf/
LOG_DIR = ${dir}/log/
PID_DIR = ${dir}/run/
ENABLE_LOGROTATION = False
USER =

[relay]
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${linePort}
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${picklePort}
ENABLE_UDP_LISTENER = False
RELAY_METHOD = consistent-hashing
DESTINATIONS = 127.0.0.1:${destPort}:a
DESTINATION_PROTOCOL = pickle
MAX_DATAPOINTS_PER_MESSAGE = 500
MAX_QUEUE_SIZE = 100000
USE_FLOW_CONTROL = True
CARBON_METRIC_INTERVAL = 0
LOG_LISTENER_CONN_SUCCESS = False
`;
}

/** Values chosen to catch any lossy step: binary fractions, extremes, negative zero, big integers. */
const VALUES = ['0.1', '-0.0', '1e-300', '1.7976931348623157e308', '123456789.123456789', '9007199254740993', '-42', '3.141592653589793', 'inf', '-2.5e-7'];

test('carbon-relay forwards plaintext lines as pickle; every value arrives exactly', async (t) => {
  if (!requirePeer(t, existsSync(RELAY) && existsSync(DEBIAN_PYTHON), 'graphite-carbon')) return;
  const c = await startInProcess({
    plugins: [RECORDING],
    inputs: { pickle: { type: 'carbon_pickle', host: '127.0.0.1', port: 0 } },
    stores: { rec: { type: 'recording_store' } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-relay-'));
  let relay: ChildProcess | undefined;
  try {
    for (const d of ['conf', 'storage/whisper', 'storage/lists', 'log', 'run']) mkdirSync(join(dir, d), { recursive: true });
    const dest = portOf(c.listening('inputs.pickle'), 'tcp').port;
    const linePort = await freePort();
    const picklePort = await freePort();
    writeFileSync(join(dir, 'conf', 'carbon.conf'), relayConf(dir, linePort, picklePort, dest));
    // carbon refuses to start without it, even as a relay
    writeFileSync(join(dir, 'conf', 'storage-schemas.conf'), '[default]\npattern = .*\nretentions = 10s:1d\n');
    let out = '';
    relay = spawn(DEBIAN_PYTHON, [RELAY, `--config=${join(dir, 'conf', 'carbon.conf')}`, '--nodaemon', 'start'], {
      env: { ...process.env, GRAPHITE_ROOT: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    relay.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    relay.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => relay!.on('exit', () => r()));

    // wait until the relay accepts lines and has connected to carbonado
    await waitFor(() => new Promise<boolean>((resolve, reject) => {
      if (relay!.exitCode !== null) reject(new Error(`carbon-relay exited with ${relay!.exitCode}:\n${out}`));
      const s = connect(linePort, '127.0.0.1');
      s.on('connect', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    }), 'carbon-relay listening', 20_000, 200);
    await waitFor(() => (c.stats().instances['inputs.pickle']!.counters.connections_accepted ?? 0) >= 1, 'relay connected to carbonado', 20_000, 100);

    // 3,000 points over 300 series: the relay batches them in frames of up to 500
    const want: Array<[string, number, number]> = [];
    let text = '';
    for (let i = 0; i < 3000; i++) {
      const name = `relay.e2e.s${i % 300}`;
      const value = VALUES[i % VALUES.length]!;
      const ts = 1_700_000_000 + Math.floor(i / 300) * 10;
      text += `${name} ${value} ${ts}\n`;
      want.push([name, Number(value === 'inf' ? Infinity : value), ts]);
    }
    text += 'relay.e2e.tagged;zone=b;app=x 7 1700000000\n';
    want.push(['relay.e2e.tagged;app=x;zone=b', 7, 1_700_000_000]);
    const sock = connect(linePort, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    await new Promise<void>((r) => sock.end(text, () => r()));

    const rec = c.runtime.instance<Recording>('stores.rec')!;
    const ours = () => rec.points.filter((p) => p[0].startsWith('relay.e2e.'));
    await waitFor(() => ours().length >= want.length, `${want.length} points through the relay`, 30_000, 100);
    const key = (p: [string, number, number]) => `${p[0]}@${p[2]}`;
    const got = new Map(ours().map((p) => [key(p), p] as const));
    assert.equal(got.size, want.length);
    for (const [name, value, ts] of want) {
      const p = got.get(`${name}@${ts}`);
      assert.ok(p, `missing ${name}@${ts}`);
      assert.ok(Object.is(p[1], value), `${name}@${ts}: ${p[1]} !== ${value}`);
    }
    const s = c.stats().instances['inputs.pickle']!;
    assert.equal(s.droppedTotal, 0, JSON.stringify(s.dropped));
    assert.ok(s.counters.frames! >= 7, `relay batches of ≤500 points: ${s.counters.frames} frames`);

    relay.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
  } finally {
    if (relay && relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
