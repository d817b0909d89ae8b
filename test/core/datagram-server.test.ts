import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { DatagramServer, procAddress } from '../../core/net/datagram-server.js';
import { descriptorOf } from '../../core/net/socket-descriptor.js';
import { testContext, until } from '../jupyterhub/context.js';

const LINUX = process.platform === 'linux';

/** Datagram i of a burst: its length cycles through edge sizes (empty, one byte, jumbo, near the IPv4 maximum); its bytes say which it is. */
const SIZES = [0, 1, 13, 1400, 9000, 65_000, 200];
function datagram(i: number): Buffer {
  const b = Buffer.alloc(SIZES[i % SIZES.length]!);
  for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j) & 0xff;
  return b;
}

test('the descriptor of a bound socket is found and reads a datagram', { skip: !LINUX && 'Linux only' }, async () => {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
  try {
    const fd = descriptorOf(s);
    assert.equal(typeof fd, 'number', 'Node keeps the handle where descriptorOf looks: the receive thread would fall back to its slower path');
  } finally {
    s.close();
  }
});

test('a burst read from the descriptor arrives whole and in order: empty, one-byte and 65,000-byte datagrams', { skip: !LINUX && 'Linux only' }, async () => {
  const { ctx } = testContext('inputs.burst');
  const got: Buffer[] = [];
  const server = new DatagramServer(ctx, { host: '127.0.0.1', port: 0, recvBufferBytes: 8 << 20, peers: false }, (bytes, start, end) => {
    got.push(Buffer.from(bytes.subarray(start, end)));
  });
  await server.start();
  try {
    assert.equal(server.readsDirectly, true);
    const COUNT = 280; // about 3 MB: more than one batch (256 KiB), well under what the kernel buffer holds
    const { port } = server.address()!;
    // another process sends while this event loop is blocked, so the thread finds many waiting per wake-up
    const sender = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      const SIZES = ${JSON.stringify(SIZES)};
      const d = (i) => { const b = Buffer.alloc(SIZES[i % SIZES.length]); for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j) & 0xff; return b; };
      s.connect(${port}, '127.0.0.1', () => { let i = 0; const next = () => { if (i === ${COUNT}) return s.close(); s.send(d(i++), next); }; next(); });
    `], { stdio: 'inherit' });
    const exited = new Promise<number | null>((res) => sender.on('exit', res));
    const end = performance.now() + 300;
    while (performance.now() < end) {
      /* blocked: only the receive thread runs */
    }
    assert.equal(await exited, 0);
    await until(() => got.length >= COUNT, 10_000, `${COUNT} datagrams`);
    assert.equal(got.length, COUNT);
    for (let i = 0; i < COUNT; i++) assert.ok(got[i]!.equals(datagram(i)), `datagram ${i} (${SIZES[i % SIZES.length]} bytes) differs`);
  } finally {
    await server.stop();
  }
});

test('with peers recorded, datagrams come through the socket events with their sender', async () => {
  const { ctx } = testContext('inputs.peers');
  const got: Array<{ text: string; address: string; port: number }> = [];
  const server = new DatagramServer(ctx, { host: '127.0.0.1', port: 0, recvBufferBytes: 0, peers: true }, (bytes, start, end, peer) => {
    got.push({ text: bytes.toString('utf8', start, end), address: peer.address, port: peer.port });
  });
  await server.start();
  const client = dgram.createSocket('udp4');
  try {
    assert.equal(server.readsDirectly, false);
    await new Promise<void>((res) => client.bind(0, '127.0.0.1', res));
    for (const text of ['a', 'b', 'c']) await new Promise<void>((res, rej) => client.send(text, server.address()!.port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    await until(() => got.length === 3, 5000, 'three datagrams');
    assert.deepEqual(got, ['a', 'b', 'c'].map((text) => ({ text, address: '127.0.0.1', port: client.address().port })));
  } finally {
    client.close();
    await server.stop();
  }
});

test('socket addresses as /proc/net/udp and udp6 write them (32-bit words, host byte order)', () => {
  assert.equal(procAddress('127.0.0.1', false), '0100007F');
  assert.equal(procAddress('0.0.0.0', false), '00000000');
  assert.equal(procAddress('::1', true), '00000000000000000000000001000000');
  assert.equal(procAddress('::', true), '00000000000000000000000000000000');
  assert.equal(procAddress('fe80::1:2', true), '000080FE000000000000000002000100');
});
