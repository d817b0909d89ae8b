// Push mode against a local HTTP receiver standing in for Grafana's annotations API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess, waitFor, type InProcess } from '../helpers/carbonado.js';
import { refusingPort } from '../helpers/ports.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: any;
}

/** A stand-in Grafana: records each request and answers with the status `respond` picks. */
async function receiver(t: { after(fn: () => Promise<void>): void }, respond: (n: number) => number | 'hang' = () => 200) {
  const got: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.headers, body: JSON.parse(b) });
      const status = respond(got.length);
      if (status === 'hang') return void hanging.push(res);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"message":"Annotation added","id":1}' : '{"message":"nope"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

async function start(t: { after(fn: () => Promise<void> | void): void }, push: Record<string, unknown>, output: Record<string, unknown> = {}): Promise<InProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'crb-push-'));
  const c = await startInProcess({
    stores: { events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    outputs: { annotations: { type: 'grafana_annotations', ...output, push } },
  });
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return c;
}

async function postEvent(c: InProcess, body: unknown): Promise<number> {
  const r = await fetch(`${c.httpUrl}/events/`, { method: 'POST', body: JSON.stringify(body) });
  await r.arrayBuffer();
  return r.status;
}

const stats = (c: InProcess) => c.stats().instances['outputs.annotations']!;

test("each new event is posted in the shape of Grafana's annotations API", async (t) => {
  const g = await receiver(t);
  const env = `CRB_TEST_GRAFANA_TOKEN_${process.pid}`;
  process.env[env] = 'glsa_test';
  t.after(() => delete process.env[env]);
  const c = await start(t, { url: `${g.url}/`, tokenEnv: env, dashboardUid: 'abc123', panelId: 4, tags: ['carbonado'] });
  assert.equal(await postEvent(c, { what: 'Deployed v2.3', tags: 'deploy hub', data: 'commit 1234', when: 1700000000.5 }), 200);
  assert.equal(await postEvent(c, { what: 'No data', when: 1700000100 }), 200);
  await waitFor(() => g.got.length === 2, 'two pushes');
  const [a, b] = g.got;
  assert.equal(a!.method, 'POST');
  assert.equal(a!.url, '/api/annotations');
  assert.equal(a!.headers['authorization'], 'Bearer glsa_test');
  assert.match(a!.headers['content-type']!, /^application\/json/);
  assert.deepEqual(a!.body, { time: 1700000000500, text: 'Deployed v2.3\n\ncommit 1234', tags: ['deploy', 'hub', 'carbonado'], dashboardUID: 'abc123', panelId: 4 });
  assert.deepEqual(b!.body, { time: 1700000100000, text: 'No data', tags: ['carbonado'], dashboardUID: 'abc123', panelId: 4 });
  await waitFor(() => stats(c).counters['push_sent'] === 2, 'push_sent counted');
});

test('without a dashboard the annotation is an organization annotation; no token, no header', async (t) => {
  const g = await receiver(t);
  const c = await start(t, { url: g.url, tokenEnv: '' });
  await postEvent(c, { what: 'x', tags: ['a'], when: 1 });
  await waitFor(() => g.got.length === 1, 'one push');
  assert.deepEqual(g.got[0]!.body, { time: 1000, text: 'x', tags: ['a'] });
  assert.equal(g.got[0]!.headers['authorization'], undefined);
});

test('5xx is retried until it succeeds; 4xx is not retried', async (t) => {
  const g = await receiver(t, (n) => (n <= 2 ? 503 : n === 3 ? 200 : 400));
  const c = await start(t, { url: g.url, retries: 3, retryDelayMs: 10 });
  await postEvent(c, { what: 'retried' });
  await waitFor(() => stats(c).counters['push_sent'] === 1, 'sent after retries');
  assert.equal(g.got.length, 3);
  assert.equal(stats(c).counters['push_retries'], 2);
  await postEvent(c, { what: 'rejected' });
  await waitFor(() => stats(c).dropped['push_rejected'] === 1, 'rejected drop');
  assert.equal(g.got.length, 4);
});

test('receiver down: retries, then a counted drop; carbonado keeps storing and answering', async (t) => {
  const down = await refusingPort();
  t.after(() => down.release());
  const port = down.port;
  const c = await start(t, { url: `http://127.0.0.1:${port}`, retries: 2, retryDelayMs: 20 });

  const t0 = Date.now();
  for (let i = 0; i < 3; i++) assert.equal(await postEvent(c, { what: `e${i}` }), 200);
  assert.ok(Date.now() - t0 < 2000, 'POST does not wait for the push');
  const list = await fetch(`${c.httpUrl}/events/get_data`);
  assert.equal(((await list.json()) as unknown[]).length, 3);
  await waitFor(() => stats(c).dropped['push_failed'] === 3, 'three failed pushes', 15_000);
  const s = stats(c);
  assert.equal(s.errors['push_network'], 9, 'three attempts each');
  assert.equal(s.counters['push_retries'], 6);
  assert.equal(s.gauges['push_queue'], 0);
});

test('a slow Grafana fills the bounded queue: overflow is counted, never blocks, and stop is bounded', async (t) => {
  const g = await receiver(t, () => 'hang');
  const c = await start(t, { url: g.url, queueMax: 2, timeoutMs: 300, retries: 0 });
  for (let i = 0; i < 5; i++) assert.equal(await postEvent(c, { what: `e${i}` }), 200);
  const s = stats(c);
  assert.equal(s.dropped['push_queue_full'], 3);
  assert.equal(s.gauges['push_queue'], 2);
  assert.equal(s.received, 5);
  const t0 = Date.now();
  await c.runtime.stop();
  assert.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`);
});

test('stop cuts a retry backoff short and counts what was not pushed', async (t) => {
  const g = await receiver(t, () => 503);
  const c = await start(t, { url: g.url, retries: 5, retryDelayMs: 60_000 });
  assert.equal(await postEvent(c, { what: 'waiting' }), 200);
  await waitFor(() => stats(c).counters['push_retries'] === 1, 'first retry scheduled');
  const t0 = Date.now();
  await c.runtime.stop();
  assert.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`);
  assert.equal(stats(c).dropped['push_shutdown'], 1);
  assert.equal(g.got.length, 1, 'no attempt after stop');
});
