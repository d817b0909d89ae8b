import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { startInProcess, portOf, waitFor, REPO_ROOT, type InProcess } from '../../../test/helpers/carbonado.js';
import { freePort } from '../../../test/helpers/ports.js';

const RECORDING = join(REPO_ROOT, 'test/fixtures/plugins/recording-store.mjs');
const NOW = 1_750_000_000;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Recording {
  points: Array<[string, number, number]>;
  setPressure(on: boolean): void;
}

function frame(body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
}

/** protocol 2 in carbon-relay's shape: BINUNICODE names, BININT timestamps, BINFLOAT values, memo puts */
function relayBody(points: Array<[string, number, number]>): Buffer {
  const parts: Buffer[] = [b('\x80\x02]q\x00(')];
  for (const [name, ts, v] of points) {
    const nb = Buffer.from(name, 'utf8');
    const hdr = Buffer.alloc(5);
    hdr[0] = 0x58;
    hdr.writeUInt32LE(nb.length, 1);
    const rest = Buffer.alloc(14);
    rest[0] = 0x4a;
    rest.writeInt32LE(ts, 1);
    rest[5] = 0x47;
    rest.writeDoubleBE(v, 6);
    parts.push(hdr, nb, b('q\x01'), rest, b('\x86q\x02\x86q\x03'));
  }
  parts.push(b('e.'));
  return Buffer.concat(parts);
}

async function start(options: Record<string, unknown> = {}, store: Record<string, unknown> = {}): Promise<InProcess> {
  return startInProcess(
    {
      plugins: [RECORDING],
      inputs: { pickle: { type: 'carbon_pickle', host: '127.0.0.1', port: 0, ...options } },
      stores: { rec: { type: 'recording_store', ...store } },
    },
    { clock: () => NOW },
  );
}

async function open(c: InProcess): Promise<Socket> {
  const { port } = portOf(c.listening('inputs.pickle'), 'tcp');
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => undefined); // a closed-by-limit socket may see ECONNRESET
  await new Promise((r) => sock.on('connect', r));
  return sock;
}

const closed = (s: Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.on('close', () => r())));
const inputStats = (c: InProcess) => c.stats().instances['inputs.pickle']!;

test('500-point frames in random chunk sizes arrive exactly; names are validated and tags normalised', async () => {
  const c = await start();
  try {
    const want: Array<[string, number, number]> = []; // as stored: name, value, time
    const frames: Buffer[] = [];
    for (let f = 0; f < 20; f++) {
      const pts: Array<[string, number, number]> = [];
      for (let i = 0; i < 500; i++) pts.push([`relay.f${f}.s${i}`, 1_700_000_000 + f * 10, f * 1000 + i + 0.25]);
      for (const [n, ts, v] of pts) want.push([n, v, ts]);
      frames.push(frame(relayBody(pts)));
    }
    frames.push(frame(relayBody([['tagged;zone=b;app=x', 1_700_000_000, 1], ['bad..name', 1_700_000_000, 2], ['now.point', -1, 3]])));
    want.push(['tagged;app=x;zone=b', 1, 1_700_000_000], ['now.point', 3, NOW]);
    // Etsy statsd's hand-built protocol 0: string values, LONG timestamps
    frames.push(frame(b("(l(S'stats.counters.x.rate'\n(L1700000000L\nS'2.5'\ntta.")));
    want.push(['stats.counters.x.rate', 2.5, 1_700_000_000]);
    const bytes = Buffer.concat(frames);
    const sock = await open(c);
    let seed = 7;
    for (let pos = 0; pos < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (seed % 9000);
      sock.write(bytes.subarray(pos, pos + n));
      pos += n;
    }
    await new Promise<void>((r) => sock.end(() => r()));
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length >= want.length, `${want.length} points`);
    assert.deepEqual(rec.points, want);
    const s = inputStats(c);
    assert.equal(s.received, want.length);
    assert.deepEqual(s.dropped, { node_empty: 1 });
    assert.equal(s.counters.frames, 22);
  } finally {
    await c.stop();
  }
});

test('hostile frames: refused opcodes keep the connection, limits close it, other clients are unaffected', async () => {
  // values under the default limit cost at least a byte each: 1 MiB cannot pass it, a lower one can
  const c = await start({ maxFrameBytes: 1 << 20, maxItemsPerFrame: 262_144 });
  const rec = c.runtime.instance<Recording>('stores.rec')!;
  try {
    const good = await open(c);
    const sendGood = (i: number) => good.write(frame(relayBody([[`good.s${i}`, 1_700_000_000, i]])));
    sendGood(0);

    // GLOBAL os.system + REDUCE, then a valid frame on the same connection
    const evil = await open(c);
    evil.write(frame(b("cos\nsystem\n(S'touch /tmp/carbonado-pwned'\ntR.")));
    evil.write(frame(b('\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.')));
    evil.write(frame(relayBody([['after.evil', 1_700_000_000, 1]])));
    await waitFor(() => rec.points.some((p) => p[0] === 'after.evil'), 'point after the refused frames');
    assert.equal(inputStats(c).dropped.frame_refused_opcode, 2);
    assert.equal(evil.destroyed, false);
    assert.equal(existsSync('/tmp/carbonado-pwned'), false);

    // a truncated frame (the connection ends mid-frame) is discarded
    const cut = await open(c);
    cut.end(frame(relayBody([['cut.point', 1, 1]])).subarray(0, 30));
    await waitFor(() => inputStats(c).dropped.frame_unfinished === 1, 'unfinished frame counted');

    // each limit closes its connection
    const hostile: Array<[string, Buffer]> = [
      ['frame_too_long', b('\x80\x00\x00\x00')], // a 2 GiB length prefix
      ['frame_limit_depth', frame(Buffer.concat([b('N'), Buffer.alloc(100, 0x85), b('.')]))],
      ['frame_limit_items', frame(Buffer.concat([b(']('), Buffer.alloc(1_000_000, 0x29), b('e.')]))],
      ['frame_limit_memo', frame(b('Nr\x00\x00\x00\x10.'))],
    ];
    for (const [reason, bytes] of hostile) {
      const s = await open(c);
      s.write(bytes);
      sendGood(1);
      await closed(s);
      assert.equal(inputStats(c).dropped[reason], 1, reason);
    }
    sendGood(2);
    await waitFor(() => rec.points.some((p) => p[0] === 'good.s2'), 'the good client still delivers');
    assert.equal(good.destroyed, false);
    assert.equal(inputStats(c).counters.connections_closed_by_limit, 4);
    good.end();
    evil.end();
  } finally {
    await c.stop();
  }
});

test('many connections holding unfinished frames stay within maxBufferedBytes', async () => {
  const c = await start({ maxBufferedBytes: 256 * 1024 });
  try {
    const socks: Socket[] = [];
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1 << 20);
    for (let i = 0; i < 8; i++) {
      const s = await open(c);
      s.write(Buffer.concat([header, Buffer.alloc(64 * 1024, 0x4e)]));
      socks.push(s);
    }
    await waitFor(() => inputStats(c).dropped.buffer_budget === 5, 'five connections closed over the budget');
    assert.ok(inputStats(c).gauges.buffered_bytes! <= 256 * 1024);
    for (const s of socks) s.destroy();
    await waitFor(() => inputStats(c).gauges.buffered_bytes === 0, 'buffers released');
  } finally {
    await c.stop();
  }
});

test('store pressure pauses the sockets; nothing is lost once it clears', async () => {
  const c = await start({}, { pressureAbovePoints: 1000 });
  const rec = c.runtime.instance<Recording>('stores.rec')!;
  try {
    const sock = await open(c);
    const want = 6000;
    for (let f = 0; f < want / 500; f++) {
      const pts: Array<[string, number, number]> = [];
      for (let i = 0; i < 500; i++) pts.push([`p.s${i}`, 1_700_000_000 + f, i]);
      sock.write(frame(relayBody(pts)));
    }
    await waitFor(() => inputStats(c).counters.paused_for_pressure === 1, 'paused');
    const during = rec.points.length;
    assert.ok(during < want, `paused with ${during} points`);
    rec.setPressure(false);
    await waitFor(() => rec.points.length === want || (rec.setPressure(false), false), `${want} points`, 10_000, 50);
    sock.end();
  } finally {
    await c.stop();
  }
});

test('start and stop ten times on the same port', async () => {
  // below the ephemeral range, so no other socket takes it between a stop and the next start
  const port = await freePort();
  for (let i = 0; i < 10; i++) {
    const c = await start({ port });
    assert.equal(portOf(c.listening('inputs.pickle'), 'tcp').port, port);
    const sock = await open(c);
    sock.write(frame(relayBody([[`restart.${i}`, 1, i]])));
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length === 1, 'the point');
    await c.stop();
    await closed(sock);
  }
});
