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

test('maxLineBytes bounds every line, however the stream is cut into reads', async () => {
  const r = replayer({});
  const input = new StatsdTcpInput(r.input, { ...opts, maxLineBytes: 1024 });
  await input.start();
  const port = Number(/:(\d+)$/.exec(input.listening()[0]!)![1]);
  const s = net.connect(port, '127.0.0.1');
  try {
    await new Promise((res) => s.once('connect', res));
    const line = (key: string, samples: number): string => key + ':1|c'.repeat(samples);
    // 1,024 bytes: kept; 1,503 bytes inside one read, before and after other lines: dropped
    s.write(`${line('okay', 255)}\nfirst:1|c\n${line('big', 375)}\nsecond:1|c\n`);
    // a line of 1,200 bytes arriving in two reads of 600 (each under the limit): dropped
    const split = line('two', 300);
    s.write(split.slice(0, 600));
    await new Promise((res) => setTimeout(res, 30));
    s.end(`${split.slice(600)}\nthird:1|c\n`);
    await waitFor(() => r.input.stats.snapshot().dropped.line_too_long === 2, 'both long lines dropped');
    await waitFor(() => input.stats().connections === 0, 'the connection closed (its last lines read)');
    const pts = new Map(await r.flush(1_700_000_010));
    assert.deepEqual(['okay', 'first', 'second', 'third', 'big', 'two'].map((k) => pts.get(`stats_counts.${k}`)), [255, 1, 1, 1, undefined, undefined]);
    assert.equal(r.input.stats.counters.get('bad_lines_seen'), 2);
  } finally {
    s.destroy();
    await input.stop();
  }
});
