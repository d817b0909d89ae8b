// The events API over real HTTP against an in-process carbonado (real SQLite file, real sockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startInProcess, type InProcess } from '../helpers/carbonado.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'crb-annotations-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: { after(fn: () => Promise<void> | void): void }, output: Record<string, unknown> = {}): Promise<InProcess> {
  const c = await startInProcess({
    stores: { events: { type: 'sqlite_events', path: join(tempDir(t), 'events.db') } },
    outputs: { annotations: { type: 'grafana_annotations', ...output } },
  });
  t.after(() => c.stop());
  return c;
}

async function post(base: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${base}/events/`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; type: string | null }> {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type'), json: JSON.parse(await res.text()) };
}

function annotations(c: InProcess) {
  return c.stats().instances['outputs.annotations']!;
}

test('round trip: both tag forms, range and tag queries as graphite-web, detail, delete', async (t) => {
  const c = await start(t);
  const u = c.httpUrl;
  assert.equal((await post(u, { what: 'Deploy v1', tags: ['deploy', 'hub'], data: 'first', when: 1700000000 })).status, 200);
  assert.equal((await post(u, { what: 'Deploy v2', tags: 'deploy web', data: 'second', when: 1700000100 })).status, 200);
  const third = await post(u, { what: 'Outage', tags: 'incident,hub', when: 1700000200.75 });
  assert.equal(third.status, 200);
  assert.deepEqual(third.json, { when: 1700000200, what: 'Outage', data: '', tags: ['incident', 'hub'], id: 3 });
  // without a trailing slash too, and `when` defaults to now
  const res = await fetch(`${u}/events`, { method: 'POST', body: '{"what":"later","tags":"misc"}' });
  assert.equal(res.status, 200);
  await res.arrayBuffer();

  const all = await getJson(`${u}/events/get_data?from=1699999999&until=1700000300`);
  assert.equal(all.status, 200);
  assert.match(all.type!, /^application\/json/);
  assert.deepEqual(all.json, [
    { when: 1700000000, what: 'Deploy v1', data: 'first', tags: ['deploy', 'hub'], id: 1 },
    { when: 1700000100, what: 'Deploy v2', data: 'second', tags: ['deploy', 'web'], id: 2 },
    { when: 1700000200, what: 'Outage', data: '', tags: ['incident', 'hub'], id: 3 },
  ]);
  const ids = async (q: string) => ((await getJson(`${u}/events/get_data?${q}`)).json as { id: number }[]).map((e) => e.id);
  // inclusive at both ends
  assert.deepEqual(await ids('from=1700000000&until=1700000100'), [1, 2]);
  assert.deepEqual(await ids('from=1700000001&until=1700000099'), []);
  // defaults: from the epoch until now
  assert.deepEqual(await ids(''), [1, 2, 3, 4]);
  // Grafana's relative times
  assert.deepEqual(await ids('from=-1h&until=now'), [4]);
  assert.deepEqual(await ids('from=20231114&until=20231115'), [1, 2, 3]);
  // tags: all of them by default (and with set=intersection), any with set=union;
  // the backend sends `a+b`, the browser `a%20b`
  assert.deepEqual(await ids('tags=deploy'), [1, 2]);
  assert.deepEqual(await ids('tags=deploy+hub'), [1]);
  assert.deepEqual(await ids('tags=deploy%20hub&set=intersection'), [1]);
  assert.deepEqual(await ids('tags=deploy+hub&set=union'), [1, 2, 3]);
  // a tag nobody uses matches nothing, alone or with others (grafana#1809)
  assert.deepEqual(await ids('tags=nosuchtag'), []);
  assert.deepEqual(await ids('tags=deploy+nosuchtag'), []);
  assert.deepEqual(await ids('tags=nosuchtag&set=union'), []);
  assert.deepEqual(await ids('tags='), []);

  const one = await getJson(`${u}/events/3`);
  assert.deepEqual(one.json, { id: 3, when: '2023-11-14T22:16:40.750Z', what: 'Outage', data: '', tags: ['incident', 'hub'] });
  assert.equal((await getJson(`${u}/events/1/`)).json.when, '2023-11-14T22:13:20Z');
  const missing = await getJson(`${u}/events/99`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { error: 'Event matching query does not exist' });

  const del = await fetch(`${u}/events/2`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.deepEqual(await del.json(), { id: 2, deleted: true });
  assert.equal((await fetch(`${u}/events/2`, { method: 'DELETE' })).status, 404);
  assert.deepEqual(await ids('tags=deploy'), [1]);

  const put = await fetch(`${u}/events/`, { method: 'PUT', body: '{}' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'POST');
  assert.match(((await put.json()) as { error: string }).error, /method not allowed/);
  assert.equal((await fetch(`${u}/events/abc`)).status, 404);

  const s = annotations(c);
  assert.equal(s.received, 4);
  assert.equal(c.stats().instances['stores.events']!.gauges['events'], 3);
});

test('jsonp is answered only for plain identifiers, and nothing is echoed into HTML', async (t) => {
  const c = await start(t);
  await post(c.httpUrl, { what: 'x', when: 1 });
  const ok = await fetch(`${c.httpUrl}/events/get_data?jsonp=cb.done`);
  assert.equal(ok.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await ok.text(), '/**/cb.done([{"when":1,"what":"x","data":"","tags":[],"id":1}])');
  for (const q of ['jsonp=%3Cscript%3E', 'from=%3Cscript%3E', 'until=-5m']) {
    const r = await fetch(`${c.httpUrl}/events/get_data?${q}`);
    assert.equal(r.status, 400, q);
    const body = await r.text();
    assert.doesNotMatch(body, /<script>/, q);
    assert.match(JSON.parse(body).error, /jsonp|invalid (from|until)/, q);
  }
});

test('bad input: 400 (or 413) with a JSON message, counted, nothing stored, server keeps serving', async (t) => {
  const c = await start(t);
  const u = c.httpUrl;
  const cases: Array<[unknown, RegExp]> = [
    [{ tags: ['deploy'] }, /"what" is required/],
    [{ what: 'x', when: 'yesterday' }, /"when" must be Unix time/],
    [{ what: 'x', when: [1] }, /"when" must be Unix time/],
    [{ what: 'x', tag: 'deploy' }, /unknown fields: tag/],
    [{ what: 'x', tags: { a: 1 } }, /"tags" must be an array or space-separated string/],
    ['{"what": "x"', /JSON object/],
    ['', /JSON object/],
  ];
  for (const [body, re] of cases) {
    const r = await post(u, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    assert.match(r.json.error, re, JSON.stringify(body));
  }
  // 512 KB with a Content-Length (within the server's http.maxBodyBytes): refused before reading
  const big = await post(u, { what: 'x', data: 'y'.repeat(1 << 19) });
  assert.equal(big.status, 413);
  assert.match(big.json.error, /larger than 65536 bytes/);
  // 1 MB chunked (no Content-Length): refused while reading
  const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${u}/events/`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    const chunk = 'z'.repeat(64 * 1024);
    req.write('{"what":"x","data":"');
    for (let i = 0; i < 16; i++) req.write(chunk);
    req.end('"}');
  });
  assert.equal(chunked.status, 413);
  assert.match(JSON.parse(chunked.body).error, /larger than/);

  const s = annotations(c);
  assert.equal(s.dropped['invalid_event'], cases.length);
  assert.equal(s.dropped['body_too_large'], 2);
  assert.equal(s.received, 0);
  assert.deepEqual((await getJson(`${u}/events/get_data`)).json, []);
  assert.equal((await post(u, { what: 'still fine' })).status, 200);
});

test('token rules: none configured means loopback only; with a token it is required for writes', async (t) => {
  await t.test('no token, loopback trusted (default): loopback may write', async (t) => {
    const c = await start(t);
    assert.equal((await post(c.httpUrl, { what: 'x' })).status, 200);
    assert.equal((await fetch(`${c.httpUrl}/events/1`, { method: 'DELETE' })).status, 200);
    // but not a web page in a browser there: a text/plain POST is a "simple" cross-site request
    const page = await post(c.httpUrl, { what: 'forged' }, { origin: 'http://evil.example', 'content-type': 'text/plain' });
    assert.equal(page.status, 403);
    assert.match(page.json.error, /from a web page \(Origin: http:\/\/evil\.example\) needs the bearer token/);
    assert.equal((await fetch(`${c.httpUrl}/events/2`, { method: 'DELETE', headers: { origin: 'null' } })).status, 403);
    assert.deepEqual((await getJson(`${c.httpUrl}/events/get_data`)).json, []);
  });

  await t.test('no token, loopback treated as remote: writes 403, reads open', async (t) => {
    const c = await start(t, { loopback: 'untrusted' });
    const r = await post(c.httpUrl, { what: 'x' });
    assert.equal(r.status, 403);
    assert.match(r.json.error, /only from loopback/);
    assert.equal((await fetch(`${c.httpUrl}/events/1`, { method: 'DELETE' })).status, 403);
    assert.equal((await getJson(`${c.httpUrl}/events/get_data`)).status, 200);
    assert.equal(annotations(c).counters['forbidden'], 2);
  });

  await t.test('token from config: missing or wrong 401 (loopback included), right 200, reads open', async (t) => {
    const c = await start(t, { token: 'tok-123' });
    const none = await post(c.httpUrl, { what: 'x' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="carbonado"');
    assert.match(none.json.error, /bearer token is required/);
    const wrong = await post(c.httpUrl, { what: 'x' }, { authorization: 'Bearer tok-124' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json, { error: 'invalid token' });
    // the token is checked before the body is read: an unauthenticated 1 MB body costs nothing
    assert.equal((await post(c.httpUrl, 'x'.repeat(1 << 20))).status, 401);
    assert.equal((await post(c.httpUrl, { what: 'x' }, { authorization: 'Bearer tok-123' })).status, 200);
    assert.equal((await fetch(`${c.httpUrl}/events/1`, { method: 'DELETE' })).status, 401);
    assert.equal((await getJson(`${c.httpUrl}/events/get_data`)).status, 200);
    assert.equal((await getJson(`${c.httpUrl}/events/1`)).status, 200);
    assert.equal((await fetch(`${c.httpUrl}/events/1`, { method: 'DELETE', headers: { authorization: 'Bearer tok-123' } })).status, 200);
    assert.equal(annotations(c).counters['unauthorized'], 4);
  });

  await t.test('token from the environment, reads protected too', async (t) => {
    const env = `CRB_TEST_EVENTS_TOKEN_${process.pid}`;
    process.env[env] = 'env-secret';
    t.after(() => delete process.env[env]);
    const c = await start(t, { tokenEnv: env, readAccess: 'token' });
    assert.equal((await getJson(`${c.httpUrl}/events/get_data`)).status, 401);
    assert.equal((await getJson(`${c.httpUrl}/events/1`)).status, 401);
    const auth = { authorization: 'Bearer env-secret' };
    assert.equal((await post(c.httpUrl, { what: 'x', when: 5 }, auth)).status, 200);
    assert.deepEqual((await getJson(`${c.httpUrl}/events/get_data`, auth)).json, [{ when: 5, what: 'x', data: '', tags: [], id: 1 }]);
  });
});

test('an output without any events store is refused as the config is built: nothing starts, nothing is written', async (t) => {
  const dir = tempDir(t);
  const config = {
    http: { host: '127.0.0.1', port: 0 },
    stores: { main: { type: 'whisper', dataDir: join(dir, 'whisper') } },
    aggregators: { statsd: { type: 'statsd' } },
    outputs: { annotations: { type: 'grafana_annotations' } },
  };
  // Runtime.create is what check-config runs: it builds the instances, it starts nothing
  await assert.rejects(Runtime.create(config, { plugins: builtinPlugins, file: 'test' }), /outputs\.annotations \(grafana_annotations\): no store provides events: add a store of type sqlite_events/);
  await assert.rejects(startInProcess(config), /sqlite_events/);
  assert.deepEqual(readdirSync(dir), [], 'no data directory made, no statsd flush written');
});

test('a failing store is a counted JSON 500, nothing half-stored, and reads keep working', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.db');
  const c = await startInProcess({
    stores: { events: { type: 'sqlite_events', path } },
    outputs: { annotations: { type: 'grafana_annotations' } },
  });
  t.after(() => c.stop());
  assert.equal((await post(c.httpUrl, { what: 'before', tags: ['a'], when: 1 })).status, 200);
  // a second connection makes every insert fail inside SQLite, as a full disk would
  const other = new Database(path);
  other.exec("CREATE TRIGGER fail_inserts BEFORE INSERT ON event_tags BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;");
  other.close();
  const r = await post(c.httpUrl, { what: 'during', tags: ['a'], when: 2 });
  assert.equal(r.status, 500);
  assert.deepEqual(r.json, { error: 'the events store failed; see the carbonado log' });
  assert.equal(annotations(c).errors['store'], 1);
  // the event row inserted before the failing tag row was rolled back with it
  assert.deepEqual(((await getJson(`${c.httpUrl}/events/get_data`)).json as { what: string }[]).map((e) => e.what), ['before']);
});

test('fuzzed bodies and query strings: always a JSON 200/4xx, never a 500, nothing odd stored', async (t) => {
  const c = await start(t);
  // deterministic PRNG so a failure reproduces
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pieces = ['{', '}', '[', ']', '"what"', '"tags"', '"when"', '"data"', ':', ',', '"x"', '1e999', '-1', 'null', 'true', '"\\u0000"', '"\u00e9"', '\u0000', '\uffff', ' ', '"a b,c"', '1700000000.5', '"<script>"'];
  let stored = 0;
  for (let i = 0; i < 150; i++) {
    const body = Array.from({ length: 1 + rnd(12) }, () => pieces[rnd(pieces.length)]).join('');
    const r = await post(c.httpUrl, body);
    assert.ok(r.status === 200 || r.status === 400, `${r.status} for ${JSON.stringify(body)}`);
    if (r.status === 200) {
      stored++;
      assert.equal(typeof r.json.what, 'string');
      assert.ok(Number.isInteger(r.json.when));
      assert.ok(r.json.tags.every((tag: string) => tag !== '' && !/[\s,]/.test(tag)));
    } else assert.equal(typeof r.json.error, 'string');
  }
  for (let i = 0; i < 50; i++) {
    const q = ['from', 'until', 'tags', 'set', 'jsonp'].map((k) => `${k}=${encodeURIComponent(Array.from({ length: rnd(4) }, () => pieces[rnd(pieces.length)]).join(''))}`).join('&');
    const r = await fetch(`${c.httpUrl}/events/get_data?${q}`);
    assert.ok(r.status === 200 || r.status === 400, `${r.status} for ${q}`);
    await r.arrayBuffer();
  }
  const s = annotations(c);
  assert.equal(s.received, stored);
  assert.equal(s.errorsTotal, 0);
  assert.equal(((await getJson(`${c.httpUrl}/events/get_data`)).json as unknown[]).length, stored);
});
