import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { replayer } from '../../../test/statsd/replay.js';
import { waitFor } from '../../../test/helpers/carbonado.js';
import { StatsdUdpInput, kernelRcvbufErrors } from './statsd-udp.js';
import { freePort } from '../../../test/helpers/ports.js';

const opts = { host: '127.0.0.1', port: 0, recvBufferSize: 1 << 20, receiveQueueBytes: 64 << 20, keySanitize: 'all', typeDialect: 'etsy' } as const;

test('start/stop ten times on the same port; each time it receives', async () => {
  const r = replayer({});
  // below the ephemeral range, so no other socket takes it between a stop and the next start
  const port = await freePort('udp');
  const sender = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 10; i++) {
      const input = new StatsdUdpInput(r.input, { ...opts, port });
      await input.start();
      await new Promise<void>((res, rej) => sender.send(`restart:1|c`, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      await waitFor(() => r.input.stats.counters.get('packets_received') === i + 1, `packet ${i + 1}`);
      await input.stop();
    }
  } finally {
    sender.close();
  }
  const pts = new Map(await r.flush(1_700_000_010));
  assert.equal(pts.get('stats_counts.restart'), 10);
});

test('the receive buffer is set and reported; the kernel drop counter is readable', async () => {
  const r = replayer({});
  const input = new StatsdUdpInput(r.input, opts);
  await input.start();
  try {
    // the size granted, in the option's units: what was asked, or the kernel's cap if lower
    // (Linux reports twice the granted size; the gauge does not)
    const cap = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    assert.equal(r.input.stats.gauges.get('recv_buffer_bytes'), Math.min(1 << 20, cap));
    assert.ok(input.stats().kernel_rcvbuf_errors! >= 0);
    assert.equal(typeof kernelRcvbufErrors(), 'number');
  } finally {
    await input.stop();
  }
});

test('a port already taken fails start with a clear error', async () => {
  const r = replayer({});
  const a = new StatsdUdpInput(r.input, opts);
  await a.start();
  const port = Number(/:(\d+)$/.exec(a.listening()[0]!)![1]);
  try {
    await assert.rejects(new StatsdUdpInput(r.input, { ...opts, port }).start(), /cannot listen on udp 127\.0\.0\.1:\d+: address already in use/);
  } finally {
    await a.stop();
  }
});

test('a receive thread that dies is restarted on the same port and receives again', async () => {
  const r = replayer({});
  const port = await freePort('udp');
  const input = new StatsdUdpInput(r.input, { ...opts, port });
  await input.start();
  const sender = dgram.createSocket('udp4');
  const send = (text: string) => new Promise<void>((res, rej) => sender.send(text, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  try {
    await send('before:1|c');
    await waitFor(() => r.input.stats.counters.get('packets_received') === 1, 'first packet');
    await input.receiveThread!.terminate();
    await waitFor(() => r.input.stats.errors.get('receive_thread') === 1, 'the death counted');
    // until the new thread is bound, datagrams go nowhere: send until one arrives
    await waitFor(async () => {
      await send('after:1|c');
      return (r.input.stats.counters.get('packets_received') ?? 0) >= 2;
    }, 'a packet after the restart', 10_000, 200);
    assert.equal(input.listening()[0], `udp://127.0.0.1:${port}`);
  } finally {
    sender.close();
    await input.stop();
  }
});

test('while the event loop is blocked the thread keeps draining; past the queue bound datagrams are dropped and counted, none vanish', async () => {
  const r = replayer({});
  const input = new StatsdUdpInput(r.input, { ...opts, recvBufferSize: 8 << 20, receiveQueueBytes: 64 << 10 });
  await input.start();
  const port = Number(/:(\d+)$/.exec(input.listening()[0]!)![1]);
  const SENT = 5000;
  try {
    // another process sends ~500 KiB while this thread is busy: more than the 64 KiB queue
    const sender = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      const line = Buffer.from('blocked.counter:1|c|#pad:' + 'x'.repeat(70));
      s.connect(${port}, '127.0.0.1', () => { for (let i = 0; i < ${SENT}; i++) s.send(line); s.close(); });
    `]);
    const exited = new Promise((res) => sender.on('exit', res));
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      /* the event loop is blocked: only the receive thread runs */
    }
    await exited;
    const got = () => (r.input.stats.counters.get('packets_received') ?? 0) + (r.input.stats.dropped.get('receive_queue_full') ?? 0);
    await waitFor(() => got() === SENT, `all ${SENT} datagrams parsed or counted as dropped (have ${got()})`, 10_000);
    const dropped = r.input.stats.dropped.get('receive_queue_full') ?? 0;
    assert.ok(dropped > 0, 'the bound was reached');
    assert.ok(dropped < SENT, 'what fit in the queue was kept');
  } finally {
    await input.stop();
  }
});

test('socket_drops is what the kernel dropped on this socket: sent = received + socket_drops, exactly', async () => {
  const r = replayer({});
  // the smallest receive buffer Linux grants (a few datagrams), against a sender in another process
  const input = new StatsdUdpInput(r.input, { ...opts, recvBufferSize: 1024 });
  await input.start();
  const port = Number(/:(\d+)$/.exec(input.listening()[0]!)![1]);
  const SENT = 20_000;
  try {
    assert.equal(input.stats().socket_drops, 0);
    const sender = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      const line = Buffer.from('drops.counter:1|c|#pad:' + 'x'.repeat(200));
      s.connect(${port}, '127.0.0.1', async () => {
        for (let i = 0; i < ${SENT}; i += 500) {
          for (let k = 0; k < 500; k++) s.send(line);
          await new Promise((r) => setImmediate(r));
        }
        s.close();
      });
    `]);
    await new Promise((res) => sender.on('exit', res));
    const received = () => r.input.stats.counters.get('packets_received') ?? 0;
    const accounted = () => received() + (input.stats().socket_drops ?? 0);
    await waitFor(() => accounted() === SENT, `all ${SENT} datagrams received or dropped by the kernel (${received()} + ${input.stats().socket_drops})`, 10_000);
    // with a buffer this small most are lost (19,500 of 20,000 here): the count is exercised
    assert.ok(input.stats().socket_drops! > 0);
  } finally {
    await input.stop();
  }
});
