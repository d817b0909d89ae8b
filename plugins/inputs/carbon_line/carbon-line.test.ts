import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startInProcess, portOf, waitFor, REPO_ROOT, type InProcess } from '../../../test/helpers/carbonado.js';
import { LINE_CASES } from './cases.js';

const RECORDING = join(REPO_ROOT, 'test/fixtures/plugins/recording-store.mjs');
const NOW = 1_750_000_000;

interface Recording {
  points: Array<[string, number, number]>;
}

/** 2,500 valid lines interleaved with every case of the catalogue, several times over. */
function workload(): { text: string; points: Array<[string, number, number]>; reasons: Record<string, number> } {
  const lines: string[] = [];
  const points: Array<[string, number, number]> = [];
  const reasons: Record<string, number> = {};
  for (let i = 0; i < 2500; i++) {
    lines.push(`load.s${i % 50}.v ${i} ${1_700_000_000 + i}`);
    points.push([`load.s${i % 50}.v`, i, 1_700_000_000 + i]);
    if (i % 50 === 0) {
      for (const c of LINE_CASES) {
        lines.push(c.line);
        if (c.want === undefined) continue;
        if (typeof c.want === 'string') reasons[c.want] = (reasons[c.want] ?? 0) + 1;
        else points.push([c.want.name, c.want.value, c.want.time === 'now' ? NOW : c.want.time]);
      }
    }
  }
  return { text: `${lines.join('\n')}\n`, points, reasons };
}

async function start(protocols: string, extra: Record<string, unknown> = {}): Promise<InProcess> {
  return startInProcess(
    { plugins: [RECORDING], inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols, ...extra } }, stores: { rec: { type: 'recording_store' } } },
    { clock: () => NOW },
  );
}

test('TCP: thousands of lines in random chunk sizes (split lines and UTF-8) arrive exactly', async () => {
  const c = await start('tcp');
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    const w = workload();
    const bytes = Buffer.from(w.text);
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    let seed = 42;
    for (let pos = 0; pos < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (seed % 3000);
      sock.write(bytes.subarray(pos, pos + n));
      pos += n;
    }
    await new Promise<void>((r) => sock.end(() => r()));
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length >= w.points.length, `${w.points.length} points`);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(rec.points, w.points);
    assert.deepEqual(c.stats().instances['inputs.carbon']!.dropped, w.reasons);
    assert.equal(c.stats().instances['inputs.carbon']!.received, w.points.length);
  } finally {
    await c.stop();
  }
});

test('TCP: an over-long line is dropped, the connection and the next lines survive; a cut last line is discarded', async () => {
  const c = await start('tcp');
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.write(`before 1 100\nhuge ${'9'.repeat(40_000)}`);
    sock.write(`${'9'.repeat(40_000)} 100\nafter 2 100\ncut 3 1`);
    await new Promise<void>((r) => sock.end(() => r()));
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => c.stats().instances['inputs.carbon']!.dropped.unterminated_line === 1, 'connection end');
    await waitFor(() => rec.points.length === 2, 'two points');
    assert.deepEqual(rec.points, [['before', 1, 100], ['after', 2, 100]]);
    assert.deepEqual(c.stats().instances['inputs.carbon']!.dropped, { line_too_long: 1, unterminated_line: 1 });
  } finally {
    await c.stop();
  }
});

test('UDP: each datagram is split as Python splitlines() does; bad lines do not lose the good ones', async () => {
  const c = await start('tcp+udp');
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'udp');
    assert.equal(portOf(c.listening('inputs.carbon'), 'tcp').port, port, 'TCP and UDP share the port');
    const sock = createSocket('udp4');
    const w = workload();
    // datagrams of up to 40 lines, CRLF separated
    // the over-long case does not fit a datagram; it is covered over TCP
    const lines = w.text.split('\n').filter((l) => l.length < 10_000);
    for (let i = 0; i < lines.length; i += 40) {
      const msg = Buffer.from(lines.slice(i, i + 40).join('\r\n'));
      await new Promise<void>((r, j) => sock.send(msg, port, '127.0.0.1', (e) => (e ? j(e) : r())));
      // paced by what was received: the OS-default receive buffer holds only ~100 of these
      // datagrams, and this test is about parsing, not loss (the next test is about loss)
      const sent = i / 40 + 1;
      if (sent % 10 === 0) await waitFor(() => (c.stats().instances['inputs.carbon']!.counters.datagrams ?? 0) >= sent, `datagram ${sent} received`);
    }
    sock.close();
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length >= w.points.length, `${w.points.length} points (have ${rec.points.length}, stats ${JSON.stringify(c.stats().instances['inputs.carbon'])})`);
    assert.deepEqual(rec.points, w.points);
    const want = { ...w.reasons };
    delete want.line_too_long;
    assert.deepEqual(c.stats().instances['inputs.carbon']!.dropped, want);
  } finally {
    await c.stop();
  }
});

test('UDP: the warning for a bad line names the sender of that datagram', async (t) => {
  const c = await start('udp');
  const warnings: string[] = [];
  const write = t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    const line = String(chunk);
    if (line.includes('invalid line')) warnings.push(line);
    return true;
  });
  const a = createSocket('udp4');
  const b = createSocket('udp4');
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'udp');
    const send = (s: typeof a, text: string) => new Promise<void>((r, j) => s.send(text, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    // one reason per sender: a warning is logged once per reason, then rate-limited
    await send(a, 'udp.ok 1 1700000000\nudp.bad nan 1700000000');
    await waitFor(() => warnings.length === 1, 'the first warning');
    await send(b, 'udp.bad 1');
    await waitFor(() => warnings.length === 2, 'the second warning');
    assert.match(warnings[0]!, new RegExp(`nan value.*peer=127\\.0\\.0\\.1:${a.address().port}\\b`));
    assert.match(warnings[1]!, new RegExp(`bad fields.*peer=127\\.0\\.0\\.1:${b.address().port}\\b`));
    // the good line of the first datagram is kept
    await waitFor(() => c.runtime.instance<Recording>('stores.rec')!.points.length === 1, 'udp.ok stored');
  } finally {
    write.mock.restore();
    a.close();
    b.close();
    await c.stop();
  }
});

test('UDP: datagrams sent while the event loop is blocked are all received (the receive thread drains the socket)', async () => {
  // 1 MiB (2 MiB as Linux counts it): room for a quarter of a second of this load when the
  // receive thread is kept waiting on a busy machine (the OS default, ~200 KiB, lost datagrams with
  // the cores shared), yet far less than the 20,000 datagrams sent: without the thread most would
  // be lost
  const c = await start('udp', { udpRecvBufferBytes: 1 << 20 });
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'udp');
    const SENT = 20_000;
    // another process sends while this thread is blocked
    const sender = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      let i = 0;
      s.connect(${port}, '127.0.0.1', function next() {
        const end = Math.min(i + 50, ${SENT});
        for (; i < end; i++) s.send('blocked.s' + (i % 100) + ' ' + i + ' ' + (1700000000 + i));
        if (i < ${SENT}) setTimeout(next, 5); else setTimeout(() => s.close(), 50);
      });
    `]);
    const exited = new Promise((r) => sender.on('exit', r));
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      /* the event loop is blocked: only the receive thread runs */
    }
    await exited;
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length >= SENT, `all ${SENT} points`, 10_000);
    assert.equal(rec.points.length, SENT);
    assert.deepEqual(rec.points.slice(0, 2), [['blocked.s0', 0, 1_700_000_000], ['blocked.s1', 1, 1_700_000_001]]);
    const st = c.stats().instances['inputs.carbon']!;
    assert.equal(st.dropped.receive_queue_full ?? 0, 0);
    assert.equal(st.counters.datagrams, SENT);
    // the kernel dropped none on this socket either (its own count, not the host's)
    assert.equal(st.gauges.socket_drops, 0);
  } finally {
    await c.stop();
  }
});
