import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { StreamServer } from '../../core/net/stream-server.js';
import { testContext, until } from '../jupyterhub/context.js';

/** Spins for `ms` (a parser that is slow on purpose). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* work */
  }
}

test('a sender that never pauses cannot hold the event loop: reads yield after each turn budget', async () => {
  const { ctx, stats } = testContext('inputs.flood');
  let bytes = 0;
  const server = new StreamServer(ctx, { host: '127.0.0.1', port: 0, maxConnections: 10, idleTimeoutMs: 0 }, () => ({
    data(chunk: Buffer) {
      bytes += chunk.length;
      busy(12); // longer than the turn budget: every read ends its turn
    },
    end() {},
  }));
  await server.start();
  const { port } = server.address()!;
  // the sender is another process, so the kernel always holds more than one read's worth
  const sender = spawn(process.execPath, ['-e', `
    const s = require('net').connect(${port}, '127.0.0.1');
    const block = Buffer.alloc(1 << 20, 0x61);
    let left = 256;
    const pump = () => { while (left > 0 && s.write(block)) left--; if (left > 0) s.once('drain', () => { left--; pump(); }); else s.end(); };
    s.on('connect', pump);
    s.on('error', () => process.exit(0));
    setTimeout(() => process.exit(0), 30000).unref();
  `], { stdio: 'ignore' });
  // the loop's turns, seen from a timer: gaps between consecutive ticks
  const gaps: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  await until(() => bytes > 16 << 20, 20_000, '16 MiB read');
  clearInterval(ticker);
  sender.kill();
  await server.stop();
  // every read used up its turn, so the socket was paused after each one and resumed in the next
  // turn; the timer ran between reads (a turn = one 12 ms read: without the budget, libuv's up to
  // 32 reads per turn could hold the loop ~0.4 s whenever the kernel had that much buffered)
  const reads = Math.ceil(bytes / 65536);
  const yielded = stats.snapshot().counters.reads_yielded ?? 0;
  assert.ok(yielded >= reads / 2, `${yielded} yields for ~${reads} reads`);
  const long = gaps.filter((g) => g > 60);
  assert.ok(long.length <= 3, `${long.length} of ${gaps.length} gaps between timer ticks over 60 ms (largest ${Math.max(...gaps).toFixed(1)} ms)`);
});
