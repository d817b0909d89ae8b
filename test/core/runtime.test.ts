import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess, portOf, waitFor, REPO_ROOT } from '../helpers/carbonado.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';
import { definePlugin, pointBatch, type PointBatch, type StoreInstance } from '../../core/index.js';
import { freePort } from '../helpers/ports.js';

const RECORDING = join(REPO_ROOT, 'test/fixtures/plugins/recording-store.mjs');
const EXAMPLE = join(REPO_ROOT, 'docs/examples/memory-store.mjs');

interface Recording extends StoreInstance {
  points: Array<[string, number, number]>;
  batches: number;
}

function send(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

test('a plugin loaded by path from outside plugins/ receives batches and answers queries', async () => {
  const c = await startInProcess({
    plugins: [RECORDING, EXAMPLE],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { mem: { type: 'memory_example', stepSecs: 10 }, rec: { type: 'recording_store' } },
  });
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    const lines = Array.from({ length: 3000 }, (_, i) => `ext.s${i % 3} ${i} ${1_700_000_000 + i * 10}\n`).join('');
    await send(port, lines);
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length === 3000, '3000 points');
    assert.ok(rec.batches >= 3 && rec.batches < 3000, `points arrive in batches, got ${rec.batches}`);
    const mem = c.runtime.instance<StoreInstance>('stores.mem')!;
    assert.deepEqual(await mem.find('ext.*'), [
      { path: 'ext.s0', isLeaf: true },
      { path: 'ext.s1', isLeaf: true },
      { path: 'ext.s2', isLeaf: true },
    ]);
    // the query store is the first one listed
    const [s] = await c.runtime.instance<StoreInstance>('stores.mem')!.fetch(['ext.s1'], 1_700_000_000, 1_700_000_060);
    assert.deepEqual([...s!.values], [1, NaN, NaN, 4, NaN, NaN]);
    assert.equal(c.stats().instances['stores.rec']!.received, 3000);
  } finally {
    await c.stop();
  }
});

test('a listener that throws is counted and does not starve the other stores', async () => {
  const exploding = definePlugin<'store', Record<string, never>>({
    kind: 'store',
    name: 'exploding',
    since: '0.1.0',
    description: 'throws on every write',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => ({
      start: async () => {},
      stop: async () => {},
      write: (_b: PointBatch) => {
        throw new Error('boom');
      },
      find: async () => [],
      fetch: async () => [],
    }),
  });
  const c = await startInProcess(
    { plugins: [RECORDING], stores: { bad: { type: 'exploding' }, rec: { type: 'recording_store' } } },
    { plugins: [...builtinPlugins, exploding] },
  );
  try {
    c.runtime.services.bus.emit('points', pointBatch([['a.b', 1, 100]]), 'test');
    c.runtime.services.bus.emit('points', pointBatch([['a.c', 2, 100]]), 'test');
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    assert.equal(rec.points.length, 2);
    assert.deepEqual(c.stats().instances['stores.bad']!.errors, { listener_threw: 2 });
  } finally {
    await c.stop();
  }
});

test('a start longer than lifecycle.startTimeoutMs succeeds while it reports progress, and fails once it stops reporting', async () => {
  // a store whose start takes `steps` × 60 ms, reporting progress after each step while `reports` says so
  const slow = definePlugin<'store', { steps: number; reportUntil: number }>({
    kind: 'store',
    name: 'slow_start',
    since: '0.1.0',
    description: 'a long start, as a store walking a big tree',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['steps', 'reportUntil'],
      properties: { steps: { type: 'integer' }, reportUntil: { type: 'integer' } },
    },
    create: (ctx, o) => ({
      start: async () => {
        for (let i = 0; i < o.steps; i++) {
          await new Promise((r) => setTimeout(r, 60));
          if (i < o.reportUntil) ctx.startProgress?.();
        }
      },
      stop: async () => {},
      write: () => {},
      find: async () => [],
      fetch: async () => [],
    }),
  });
  const plugins = [...builtinPlugins, slow];
  const run = (steps: number, reportUntil: number) =>
    startInProcess({ lifecycle: { startTimeoutMs: 200 }, stores: { s: { type: 'slow_start', steps, reportUntil } } }, { plugins });
  // 1.2 s of start against a 200 ms timeout, reporting all along
  const c = await run(20, 20);
  await c.stop();
  // the same start without a word
  await assert.rejects(run(20, 0), /stores\.s start did not finish within 200 ms/);
  // reporting, then silent for ~600 ms
  await assert.rejects(run(20, 10), /stores\.s start made no progress for 200 ms/);
});

test('while the stores start, the HTTP port answers 503 "starting" (Retry-After), not 404, for routes the outputs have yet to mount', async () => {
  const gate = { open: (): void => undefined };
  const opened = new Promise<void>((resolve) => (gate.open = resolve));
  const held = definePlugin<'store', Record<string, never>>({
    kind: 'store',
    name: 'held_start',
    since: '0.1.0',
    description: 'a start that waits for the test',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    create: () => ({ start: () => opened, stop: async () => {}, write: () => {}, find: async () => [], fetch: async () => [] }),
  });
  const httpPort = await freePort();
  const rt = await Runtime.create(
    { http: { host: '127.0.0.1', port: httpPort }, log: { level: 'warn' }, stores: { s: { type: 'held_start' } }, outputs: { graphite: { type: 'graphite_render' } } },
    { plugins: [...builtinPlugins, held], file: 'test' },
  );
  const started = rt.start();
  try {
    const during = await waitFor(async () => {
      try {
        return await fetch(`http://127.0.0.1:${httpPort}/render?target=a&format=json`);
      } catch {
        return undefined; // not listening yet
      }
    }, 'the HTTP port to open');
    assert.ok(during);
    assert.equal(during.status, 503);
    assert.equal(during.headers.get('retry-after'), '1');
    assert.deepEqual(await during.json(), { error: 'carbonado is starting' });
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/health`)).status, 503);
    gate.open();
    await started;
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/render?target=a&format=json`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/no/such/path`)).status, 404);
  } finally {
    gate.open();
    await started.catch(() => undefined);
    await rt.stop();
  }
});

test('start and stop the whole runtime 10 times on the same ports: nothing leaks', async () => {
  const port = await freePort();
  const httpPort = await freePort();
  const config = {
    http: { host: '127.0.0.1', port: httpPort },
    log: { level: 'warn' },
    selfMetrics: { intervalSecs: 1 },
    plugins: [RECORDING],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port } },
    stores: { rec: { type: 'recording_store' } },
  };
  const handlesBefore = activeHandles();
  for (let i = 0; i < 10; i++) {
    const rt = await Runtime.create(config, { plugins: builtinPlugins, file: 'test' });
    await rt.start();
    await send(port, `round.r${i} ${i} 100\n`);
    const rec = rt.instance<Recording>('stores.rec')!;
    await waitFor(() => rec.points.length === 1, 'point of this round');
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    assert.equal(health.status, 200);
    await rt.stop();
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(activeHandles() <= handlesBefore, `handles before ${handlesBefore}, after ${activeHandles()}`);
});

test('a port already in use fails start-up with one line naming the instance and the port', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const rt = await Runtime.create(
      { http: { host: '127.0.0.1', port: 0 }, log: { level: 'error' }, inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port, protocols: 'tcp' } } },
      { plugins: builtinPlugins, file: 'test' },
    );
    await assert.rejects(rt.start(), (e: Error & { code: string }) => {
      assert.equal(e.code, 'CRB_E_ADDRESS_IN_USE');
      assert.equal(e.message, `inputs.carbon: cannot listen on tcp 127.0.0.1:${port}: address already in use`);
      return true;
    });
  } finally {
    blocker.close();
  }
});

test('store pressure pauses TCP reading and resumes it when cleared', async () => {
  const c = await startInProcess({
    plugins: [RECORDING],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { rec: { type: 'recording_store' } },
  });
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    const rec = c.runtime.instance<Recording & { setPressure(on: boolean): void }>('stores.rec')!;
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.write('p.a 1 100\n');
    await waitFor(() => rec.points.length === 1, 'first point');
    rec.setPressure(true);
    const health = (await (await fetch(`${c.httpUrl}/health`)).json()) as { pressure: string[] };
    assert.equal(health.pressure[0], 'stores.rec');
    sock.write('p.b 2 100\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rec.points.length, 1, 'nothing is read while a store is under pressure');
    rec.setPressure(false);
    await waitFor(() => rec.points.length === 2, 'point after resume');
    assert.equal(c.stats().instances['inputs.carbon']!.counters.paused_for_pressure, 1);
    sock.destroy();
  } finally {
    await c.stop();
  }
});

test('self-metrics land in the stores under the prefix; /stats answers the counters', async () => {
  const c = await startInProcess(
    {
      plugins: [RECORDING],
      selfMetrics: { prefix: 'carbonado.{hostname}.', intervalSecs: 1 },
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
      stores: { rec: { type: 'recording_store' } },
    },
    {},
  );
  try {
    const { port } = portOf(c.listening('inputs.carbon'), 'tcp');
    await send(port, 'x.y 1 100\nbroken\n');
    const rec = c.runtime.instance<Recording>('stores.rec')!;
    const host = c.runtime.services.hostname.replace(/\./g, '_');
    const want = `carbonado.${host}.inputs.carbon.dropped_by.bad_fields`;
    await waitFor(() => rec.points.some((p) => p[0] === want && p[1] === 1), want, 5000);
    const names = new Set(rec.points.map((p) => p[0]));
    for (const leaf of ['inputs.carbon.received', 'stores.rec.received', 'process.rss_bytes', 'process.event_loop_lag_ms', 'process.cpu_user_percent']) {
      assert.ok(names.has(`carbonado.${host}.${leaf}`), leaf);
    }
    const stats = (await (await fetch(`${c.httpUrl}/stats`)).json()) as { instances: Record<string, { received: number; dropped: Record<string, number> }> };
    assert.equal(stats.instances['inputs.carbon']!.received, 1);
    assert.deepEqual(stats.instances['inputs.carbon']!.dropped, { bad_fields: 1 });
  } finally {
    await c.stop();
  }
});

test('a store that takes no points (the annotations store) is not sent the batches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crb-takes-'));
  const c = await startInProcess(
    {
      plugins: [RECORDING],
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
      stores: { rec: { type: 'recording_store' }, events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    },
    {},
  );
  try {
    await send(portOf(c.listening('inputs.carbon'), 'tcp').port, 'x.y 1 100\nx.z 2 100\n');
    await waitFor(() => c.stats().instances['stores.rec']!.received === 2, 'the points stored');
    assert.equal(c.stats().instances['stores.events']!.received, 0);
  } finally {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process.event_loop_lag_ms is the lag, without the histogram\'s 20 ms sampling interval', async () => {
  const c = await startInProcess({ plugins: [RECORDING], stores: { rec: { type: 'recording_store' } } }, {});
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = c.stats().process.event_loop_lag_ms!;
    // an idle loop: a fraction of a millisecond (it read ~20.3 ms when the interval was included)
    assert.ok(idle >= 0 && idle < 10, `idle lag ${idle} ms`);
    const t = performance.now();
    while (performance.now() - t < 150); // the loop blocked for 150 ms
    await new Promise((r) => setTimeout(r, 50));
    const max = c.stats().process.event_loop_lag_max_ms!;
    assert.ok(max >= 100, `max lag ${max} ms after a 150 ms block`);
  } finally {
    await c.stop();
  }
});

function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}

test('http.maxConnections: connections past it are closed at once; the server answers when they go', async () => {
  const c = await startInProcess({ http: { host: '127.0.0.1', port: 0, maxConnections: 3 } });
  const port = Number(new URL(c.httpUrl).port);
  const held: Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const s = connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 50));
    const extra = connect(port, '127.0.0.1');
    extra.on('error', () => {});
    extra.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    let answered = '';
    extra.on('data', (d: Buffer) => (answered += d.toString()));
    const closed = await Promise.race([new Promise((r) => extra.once('close', () => r(true))), new Promise((r) => setTimeout(() => r(false), 5000))]);
    extra.destroy();
    assert.equal(closed, true, 'the connection past the limit was not closed');
    assert.equal(answered, '', 'closed without an answer');
    for (const s of held) s.destroy();
    await waitFor(async () => (await fetch(`${c.httpUrl}/health`).catch(() => undefined))?.status === 200, 'answers again');
  } finally {
    for (const s of held) s.destroy();
    await c.stop();
  }
});

/** POSTs `bytes` bytes of form body, with a Content-Length or chunked; the status */
function postBody(url: string, bytes: number, chunked: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(bytes);
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    // the server may answer and close before the whole body is sent
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    const body = `target=${'a'.repeat(bytes - 7)}`;
    if (chunked) for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000));
    else req.write(body);
    req.end();
  });
}

/** Writes `head` then each piece; what the server answered, and when it closed the connection (or 10 s) */
function rawExchange(port: number, head: string, pieces: string[]): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let answer = '';
    const t0 = performance.now();
    const done = () => resolve({ answer, closedAfterMs: Math.round(performance.now() - t0) });
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, 10_000);
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      done();
    });
    s.write(head);
    for (const p of pieces) s.write(p);
  });
}

test('http.maxBodyBytes: a longer body is refused (413), declared or chunked, whatever the plugin\'s own limit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-body-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = await startInProcess({
    http: { host: '127.0.0.1', port: 0, maxBodyBytes: 2048 },
    stores: { events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    outputs: { graphite: { type: 'graphite_render' }, annotations: { type: 'grafana_annotations', maxBodyBytes: 1_000_000 } },
  });
  try {
    for (const path of ['/render', '/events/']) {
      for (const chunked of [false, true]) {
        const at = `${path} ${chunked ? 'chunked' : 'Content-Length'}`;
        assert.equal(await postBody(`${c.httpUrl}${path}`, 5000, chunked), 413, at);
        assert.notEqual(await postBody(`${c.httpUrl}${path}`, 1500, chunked), 413, at);
      }
    }
    const declared = await fetch(`${c.httpUrl}/render`, { method: 'POST', body: 'x'.repeat(5000) });
    assert.match(((await declared.json()) as { error: string }).error, /larger than http.maxBodyBytes \(2048\)/);
    assert.equal((await fetch(`${c.httpUrl}/health`)).status, 200);
    const port = Number(new URL(c.httpUrl).port);
    // Expect: 100-continue: refused before the client is invited to send the body
    const expect = await rawExchange(port, 'POST /render HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n', []);
    assert.match(expect.answer, /^HTTP\/1\.1 413 /, 'no 100 Continue first');
    // a chunked body past the limit, still arriving after the 413, on a kept-alive connection:
    // the connection is closed at once (it once stopped being read and hung for a minute)
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    for (const path of ['/render', '/events/']) {
      const body = Array.from({ length: 40 }, () => chunk('target=' + 'a'.repeat(993)));
      const r = await rawExchange(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`, [...body, '0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n']);
      assert.match(r.answer, /^HTTP\/1\.1 413 /, path);
      assert.ok(r.closedAfterMs < 3000, `${path}: the connection was left open ${r.closedAfterMs} ms`);
    }
    const refused = c.stats().process.http_bodies_refused;
    assert.equal(refused, 4, 'the server counts its own refusals (two declared, one expected, one by fetch)');
  } finally {
    await c.stop();
  }
});
