import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { replayer } from '../../../test/statsd/replay.js';
import { waitFor } from '../../../test/helpers/carbonado.js';
import { StatsdTcpInput } from './statsd-tcp.js';
import { freePort } from '../../../test/helpers/ports.js';

const opts = { host: '127.0.0.1', port: 0, maxLineBytes: 65536, maxConnections: 16, keySanitize: 'all', typeDialect: 'etsy' } as const;

test('start/stop ten times on the same port', async () => {
  const r = replayer({});
  // below the ephemeral range, so no other socket takes it between a stop and the next start
  const port = await freePort();
  for (let i = 0; i < 10; i++) {
    const input = new StatsdTcpInput(r.input, { ...opts, port });
    await input.start();
    assert.equal(input.listening()[0], `tcp://127.0.0.1:${port}`);
    const s = net.connect(port, '127.0.0.1');
    s.end('restart:1|c\n');
    await waitFor(() => r.input.stats.counters.get('packets_received') === i + 1, `packet ${i + 1}`);
    await input.stop();
  }
  assert.equal(new Map(await r.flush(1_700_000_010)).get('stats_counts.restart'), 10);
});

test('back-pressure: reading pauses while a store is under pressure and resumes after', async () => {
  const r = replayer({});
  let pressure = true;
  const ctx = { ...r.input, underPressure: () => pressure };
  const input = new StatsdTcpInput(ctx, opts);
  await input.start();
  const port = Number(/:(\d+)$/.exec(input.listening()[0]!)![1]);
  const s = net.connect(port, '127.0.0.1');
  try {
    await new Promise((res) => s.once('connect', res));
    s.write('bp:1|c\n');
    await waitFor(() => input.stats().connections === 1, 'connection accepted');
    await new Promise((res) => setTimeout(res, 150));
    assert.equal(r.input.stats.counters.get('packets_received') ?? 0, 0, 'nothing read while paused');
    pressure = false;
    r.input.bus.emit('pressure', { source: 'stores.x', active: false });
    await waitFor(() => r.input.stats.counters.get('packets_received') === 1, 'read after resume');
    pressure = true;
    r.input.bus.emit('pressure', { source: 'stores.x', active: true });
    assert.equal(input.stats().paused, 1);
  } finally {
    s.destroy();
    await input.stop();
  }
});
