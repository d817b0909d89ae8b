import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { refusingPort } from './ports.js';

async function tryListen(port: number): Promise<Server | string> {
  const s = createServer();
  s.listen(port, '127.0.0.1');
  return new Promise((resolve) => {
    s.once('listening', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function connectOutcome(port: number): Promise<string> {
  const c = connect(port, '127.0.0.1');
  return new Promise((resolve) => {
    c.once('connect', () => (c.destroy(), resolve('connected')));
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

test('a refusing port refuses connections, cannot be taken by anyone, and can be listened on once released', async () => {
  const held = await refusingPort();
  assert.equal(await connectOutcome(held.port), 'ECONNREFUSED');
  assert.equal(await tryListen(held.port), 'EADDRINUSE');
  await held.release();
  await held.release();
  const s = await tryListen(held.port);
  assert.notEqual(typeof s, 'string', `listen after release: ${String(s)}`);
  assert.equal(await connectOutcome(held.port), 'connected');
  await new Promise<void>((r) => (s as Server).close(() => r()));
});
