// graphite_render over real HTTP on a real runtime: Grafana's request shapes (protocols.md §5),
// trailing slashes and methods, formats, jsonp, XSS attempts, limits and their counters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { hasPythonModule, requirePeer } from '../helpers/peers.js';
import { startInProcess, waitFor, type InProcess } from '../helpers/carbonado.js';
import { builtinPlugins } from '../../plugins/index.js';
import { NOW } from './cases.js';
import { makeFixture, startCarbonado, unpickleAll } from './support.js';
import { memoryStorePlugin } from './memory-store.js';

const havePeers = hasPythonModule('whisper');
let dir = '';
let app: InProcess | undefined;
let base = '';

before(async () => {
  if (!havePeers) return;
  dir = makeFixture();
  app = await startCarbonado(dir);
  base = app.httpUrl;
});

after(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const form = (p: Record<string, string | string[]>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) for (const x of Array.isArray(v) ? v : [v]) u.append(k, x);
  return u.toString();
};
const get = (path: string, p: Record<string, string | string[]> = {}) => fetch(`${base}${path}${Object.keys(p).length ? `?${form(p)}` : ''}`);
const post = (path: string, p: Record<string, string | string[]>, query = '') =>
  fetch(`${base}${path}${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(p) });

function peers(t: { skip(msg?: string): void }): boolean {
  return requirePeer(t, havePeers, 'python3-whisper');
}

test('Grafana panel query: POST /render form with maxDataPoints and the aliasSub refId wrapper', async (t) => {
  if (!peers(t)) return;
  const res = await post('/render', {
    target: ['aliasSub(servers.web0[12].cpu.user, "(^.*$)", "\\1 A")', 'aliasSub(sumSeries(servers.*.cpu.user), "(^.*$)", "\\1 B")'],
    from: '-6h', until: 'now', format: 'json', maxDataPoints: '100', now: String(NOW),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^application\/json/);
  const body = (await res.json()) as Array<{ target: string; datapoints: Array<[number | null, number]>; tags: Record<string, string> }>;
  assert.deepEqual(body.map((s) => s.target), ['servers.web01.cpu.user A', 'servers.web02.cpu.user A', 'sumSeries(servers.*.cpu.user) B']);
  for (const s of body) {
    assert.ok(s.datapoints.length <= 100 && s.datapoints.length > 50);
    assert.ok(s.datapoints.every(([, ts]) => Number.isInteger(ts)));
    assert.equal(typeof s.tags.name, 'string');
  }
});

test('Grafana health check and backend mode: constantLine, epoch from/until', async (t) => {
  if (!peers(t)) return;
  const browser = await post('/render', { target: 'constantLine(100)', from: '-5min', until: 'now', format: 'json', maxDataPoints: '300' });
  assert.equal(browser.status, 200);
  assert.ok(Array.isArray(await browser.json()));
  const backend = await post('/render', { target: 'constantLine(100)', from: String(NOW - 3600), until: String(NOW), format: 'json', maxDataPoints: '100' });
  const [s] = (await backend.json()) as Array<{ target: string; datapoints: Array<[number, number]> }>;
  assert.equal(s!.target, '100.0'); // graphite-web names it str(float(value))
  assert.ok(s!.datapoints.every(([v, ts]) => v === 100 && ts !== null));
});

test('metric tree: /metrics/find with and without trailing slash, GET and POST', async (t) => {
  if (!peers(t)) return;
  const a = await (await get('/metrics/find', { query: 'servers.*' })).json();
  const b = await (await get('/metrics/find/', { query: 'servers.*' })).json();
  const c = await (await post('/metrics/find', { query: 'servers.*' }, `?from=-6h&until=now`)).json();
  const d = await (await get('/metrics', { query: 'servers.*' })).json();
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  assert.deepEqual(a, d);
  assert.deepEqual((a as Array<{ text: string }>).map((n) => n.text), ['db01', 'web01', 'web02', 'web03', 'web04']);
  const res = await get('/metrics/find', { query: 'servers.web01.cpu.*' });
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.deepEqual(await res.json(), [
    { text: 'system', id: 'servers.web01.cpu.system', allowChildren: 0, expandable: 0, leaf: 1 },
    { text: 'user', id: 'servers.web01.cpu.user', allowChildren: 0, expandable: 0, leaf: 1 },
  ]);
});

test('variables: /metrics/expand and /metrics/index.json', async (t) => {
  if (!peers(t)) return;
  assert.deepEqual(await (await get('/metrics/expand', { query: 'apps.*.latency', from: '-1h', until: 'now' })).json(), { results: ['apps.api.latency', 'apps.web.latency'] });
  const index = (await (await get('/metrics/index.json')).json()) as string[];
  assert.equal(index.length, 27);
  assert.deepEqual(index, [...index].sort());
});

test('find pickle is what graphite-web 1.1.8 cluster clients read', async (t) => {
  if (!peers(t)) return;
  const res = await get('/metrics/find/', { local: '1', format: 'pickle', query: 'servers.web01.*' });
  assert.equal(res.headers.get('content-type'), 'application/pickle');
  const leaf = await get('/metrics/find/', { local: '1', format: 'pickle', query: 'servers.web01.cpu.user' });
  const [branches, leaves] = unpickleAll([
    Buffer.from(await res.arrayBuffer()).toString('base64'),
    Buffer.from(await leaf.arrayBuffer()).toString('base64'),
  ]) as [unknown, unknown];
  assert.deepEqual(branches, [{ path: 'servers.web01.cpu', is_leaf: false }, { path: 'servers.web01.net', is_leaf: false }]);
  assert.deepEqual(leaves, [{ path: 'servers.web01.cpu.user', is_leaf: true, intervals: [[0, NOW]] }]);
});

test('/render without format is a clear 400 in text/plain; image formats too', async (t) => {
  if (!peers(t)) return;
  const shapes: Array<Record<string, string>> = [{ target: 'servers.web01.cpu.user' }, { target: 'a', format: 'png' }, { target: 'a', format: 'svg' }];
  for (const p of shapes) {
    const res = await get('/render', p);
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type')!, /^text\/plain/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await res.text(), /format=json/);
  }
});

test('jsonp: a valid callback wraps the answer, anything else is refused', async (t) => {
  if (!peers(t)) return;
  const ok = await get('/render', { target: 'constantLine(1)', format: 'json', jsonp: 'cb.done_1' });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type')!, /^text\/javascript/);
  assert.match(await ok.text(), /^\/\*\*\/cb\.done_1\(\[/);
  for (const cb of ['alert(1)//', '<script>', 'a b', 'x;y', '1abc', 'a'.repeat(100)]) {
    const bad = await get('/render', { target: 'constantLine(1)', format: 'json', jsonp: cb });
    assert.equal(bad.status, 400, cb);
    assert.ok(!(await bad.text()).includes(cb), 'callback not echoed');
  }
});

test('XSS attempts are never reflected as markup', async (t) => {
  if (!peers(t)) return;
  const evil = '<script>alert(1)</script>';
  const attempts: Array<Promise<Response>> = [
    get('/render', { target: evil, format: 'json' }),
    get('/render', { target: `alias(servers.web01.cpu.user,'${evil}')`, format: 'json', from: '-5min' }),
    get('/render', { target: 'servers.web01.cpu.user', format: 'json', from: evil }),
    get('/render', { target: 'servers.web01.cpu.user', format: 'json', until: evil }),
    get('/render', { target: 'servers.web01.cpu.user', format: evil }),
    get('/render', { target: 'servers.web01.cpu.user', format: 'json', jsonp: evil }),
    get('/metrics/find', { query: evil }),
    get('/metrics/find', { query: 'servers.*', from: evil }),
    get('/metrics/find', { query: 'servers.*', until: evil, format: 'completer' }),
    get('/metrics/find', { query: 'x', format: evil }),
    get('/metrics/expand', { query: evil }),
    get(`/functions/${encodeURIComponent(evil)}`),
    get('/tags/autoComplete/values', { tag: evil, expr: evil }),
    post('/tags/tagSeries', { path: evil }),
  ];
  for (const res of await Promise.all(attempts)) {
    const type = res.headers.get('content-type') ?? '';
    assert.ok(!/html/i.test(type), `content type ${type}`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const body = await res.text();
    assert.ok(!body.includes('<script'), `reflected: ${body.slice(0, 200)}`);
  }
});

test('/functions is valid JSON (no bare Infinity) and describes what is implemented', async (t) => {
  if (!peers(t)) return;
  const text = await (await get('/functions')).text();
  assert.ok(!/Infinity|NaN/.test(text));
  const all = JSON.parse(text) as Record<string, { name: string; group: string; params: unknown[] }>;
  for (const name of ['alias', 'aliasSub', 'constantLine', 'sumSeries', 'seriesByTag', 'movingAverage', 'summarize']) assert.ok(all[name], name);
  const grouped = (await (await get('/functions', { grouped: '1' })).json()) as Record<string, Record<string, unknown>>;
  assert.ok(grouped.Alias && grouped.Alias.alias);
  const combine = (await (await get('/functions', { group: 'Combine' })).json()) as Record<string, { group: string }>;
  assert.ok(Object.values(combine).every((f) => f.group === 'Combine'));
  assert.equal(((await (await get('/functions/alias')).json()) as { name: string }).name, 'alias');
  const missing = await get('/functions/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'Function not found: nope' });
});

test('/version answers a 1.1.x semver', async (t) => {
  if (!peers(t)) return;
  for (const p of ['/version', '/version/']) {
    const res = await get(p);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '1.1.8\n');
  }
});

test('formats: csv, raw and the legacy rawData flag', async (t) => {
  if (!peers(t)) return;
  const csv = await get('/render', { target: 'servers.web01.cpu.user', from: '-3min', format: 'csv', now: String(NOW) });
  assert.match(csv.headers.get('content-type')!, /^text\/csv/);
  assert.equal(await csv.text(), 'servers.web01.cpu.user,2023-11-14 22:11:00,26.0\r\nservers.web01.cpu.user,2023-11-14 22:12:00,33.0\r\nservers.web01.cpu.user,2023-11-14 22:13:00,40.0\r\n');
  const raw = await get('/render', { target: 'special.sparse', from: '-3min', rawData: '1', now: String(NOW) });
  assert.equal(await raw.text(), 'special.sparse,1699999860,1700000040,60|None,None,None\n');
});

test('bad input answers 400 JSON and is counted', async (t) => {
  if (!peers(t)) return;
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ target: 'sumSeries(a.b', format: 'json' }, /invalid target/],
    [{ target: 'a.b', format: 'json', from: '-5m' }, /Invalid offset unit/],
    [{ target: 'a.b', format: 'json', from: '-1h', until: '-1h' }, /empty time range/],
    [{ target: 'nope(a.b)', format: 'json' }, /unknown function/],
    [{ target: 'a.b', format: 'json', xFilesFactor: 'lots' }, /xFilesFactor/],
    [{ target: "applyByNode(servers.*.cpu.user,1,'sumSeries(%.cpu.user')", format: 'json' }, /applyByNode\(\): the template gives an invalid target/],
    [{ target: 'a.b', format: 'json', maxDataPoints: '0' }, /maxDataPoints/],
  ];
  for (const [p, msg] of cases) {
    const res = await get('/render', p);
    assert.equal(res.status, 400, JSON.stringify(p));
    assert.match(((await res.json()) as { error: string }).error, msg);
  }
  // a keyword argument given as None is absent (graphite-web runs the call)
  const none = await get('/render', { target: 'nonNegativeDerivative(servers.web01.net.bytes_in,maxValue=None)', format: 'json', now: String(NOW), from: '-1h' });
  assert.equal(none.status, 200, await none.clone().text());
  assert.equal(((await none.json()) as unknown[]).length, 1);
  const noQuery = await get('/metrics/find');
  assert.equal(noQuery.status, 400);
  const stats = app!.stats().instances['outputs.graphite']!;
  assert.ok(stats.droppedTotal >= 6);
  assert.ok((stats.dropped.bad_target ?? 0) >= 2);
  assert.ok((stats.counters.requests_render ?? 0) > 0);
});

test('a large body is refused with 413, a missing method with 405', async (t) => {
  if (!peers(t)) return;
  const big = await post('/render', { target: 'x'.repeat(2 * 1024 * 1024), format: 'json' });
  assert.equal(big.status, 413);
  const put = await fetch(`${base}/render`, { method: 'PUT' });
  assert.equal(put.status, 405);
  const tagGet = await get('/tags/tagSeries', { path: 'a.b;x=y' });
  assert.equal(tagGet.status, 405);
});

test('limits: targets, series, points, depth and time answer 4xx JSON with a counter', async (t) => {
  if (!peers(t)) return;
  const tight = await startCarbonado(dir, {
    maxTargetsPerRequest: 3, maxSeriesPerTarget: 4, maxPointsPerRequest: 4000, maxExpressionDepth: 5, maxFindResults: 10,
  });
  try {
    const u = tight.httpUrl;
    const q = (p: Record<string, string | string[]>) => fetch(`${u}/render?${form({ format: 'json', now: String(NOW), ...p })}`);
    const check = async (res: Response, status: number, msg: RegExp) => {
      assert.equal(res.status, status);
      assert.match(res.headers.get('content-type')!, /^application\/json/);
      assert.match(((await res.json()) as { error: string }).error, msg);
    };
    await check(await q({ target: ['a', 'b', 'c', 'd'] }), 422, /targets/);
    await check(await q({ target: 'servers.*.cpu.*' }), 422, /limit/);
    await check(await q({ target: ['servers.web01.cpu.user', 'servers.web02.cpu.user', 'servers.web03.cpu.user'], from: '-1d' }), 422, /datapoints/);
    await check(await q({ target: 'abs(abs(abs(abs(abs(abs(abs(a.b)))))))' }), 400, /./);
    await check(await fetch(`${u}/metrics/find?query=*.*.*.*`), 422, /nodes/);
    const d = tight.stats().instances['outputs.graphite']!.dropped;
    assert.ok(d.limit_targets === 1 && d.limit_series === 1 && d.limit_points === 1 && d.limit_find === 1, JSON.stringify(d));
  } finally {
    await tight.stop();
  }
  const slow = await startCarbonado(dir, { maxRequestTimeMs: 1 });
  try {
    const res = await fetch(`${slow.httpUrl}/render?${form({ format: 'json', now: String(NOW), from: '-20d', target: Array(20).fill('movingAverage(servers.*.cpu.*,100)') })}`);
    assert.equal(res.status, 422);
    assert.equal(slow.stats().instances['outputs.graphite']!.dropped.limit_time, 1);
  } finally {
    await slow.stop();
  }
});

test('tags API and seriesByTag over a store with a tag index', async () => {
  const names = [
    'disk.used;datacenter=dc1;rack=a1;server=web01',
    'disk.used;datacenter=dc1;rack=a2;server=web02',
    'disk.used;datacenter=dc2;rack=b1;server=db01',
    'cpu.load;datacenter=dc1;server=web01',
    'plain.metric',
  ];
  const tagApp = await startInProcess(
    { stores: { mem: { type: 'test_memory', names } }, outputs: { graphite: { type: 'graphite_render' } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  try {
    const u = tagApp.httpUrl;
    const j = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${u}${path}`, init);
      return { status: res.status, body: await res.json() };
    };
    const postForm = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.deepEqual((await j('/tags/autoComplete/tags')).body, ['datacenter', 'name', 'rack', 'server']);
    assert.deepEqual((await j('/tags/autoComplete/tags?tagPrefix=r')).body, ['rack']);
    assert.deepEqual((await j('/tags/autoComplete/tags?expr=name%3Ddisk.used&expr=datacenter%3Ddc1')).body, ['rack', 'server']);
    assert.deepEqual((await j('/tags/autoComplete/values?tag=server')).body, ['db01', 'web01', 'web02']);
    assert.deepEqual((await j('/tags/autoComplete/values?tag=server&expr=datacenter%3Ddc1&valuePrefix=web')).body, ['web01', 'web02']);
    assert.deepEqual((await j('/tags/autoComplete/values?tag=server&limit=1')).body, ['db01']);
    assert.equal((await j('/tags/autoComplete/values')).status, 400);
    assert.deepEqual((await j('/tags/findSeries?expr=server%3D~web&expr=name%3Ddisk.used')).body, [names[0], names[1]]);
    assert.deepEqual((await j('/tags/findSeries?expr=server%3D~eb')).body, []);
    assert.equal((await j('/tags/findSeries?expr=rack%3D')).status, 400);
    assert.equal((await j('/tags/findSeries')).status, 400);
    assert.deepEqual((await j('/tags?filter=r')).body, [{ id: 3, tag: 'rack' }]);
    assert.deepEqual((await j('/tags/rack')).body, { id: 3, tag: 'rack', values: [{ id: 1, value: 'a1', count: 1 }, { id: 2, value: 'a2', count: 1 }, { id: 3, value: 'b1', count: 1 }] });
    assert.equal((await j('/tags/nosuchtag')).body, null);
    assert.deepEqual((await j('/tags/tagSeries', postForm('path=disk.used;server=web01;datacenter=dc1'))).body, 'disk.used;datacenter=dc1;server=web01');
    assert.deepEqual((await j('/tags/tagMultiSeries', postForm('path=a.b;z=1;y=2&path=c'))).body, ['a.b;y=2;z=1', 'c']);
    assert.equal((await j('/tags/tagMultiSeries', postForm('path=a.b;bad'))).status, 400);
    assert.equal((await j('/tags/delSeries', postForm('path=a.b;x=1'))).body, true);
    const r = await j(`/render?format=json&from=-5min&target=${encodeURIComponent("seriesByTag('name=disk.used','datacenter=dc1')")}`);
    assert.deepEqual((r.body as Array<{ target: string; tags: Record<string, string> }>).map((s) => [s.target, s.tags]), [
      [names[0], { name: 'disk.used', datacenter: 'dc1', rack: 'a1', server: 'web01' }],
      [names[1], { name: 'disk.used', datacenter: 'dc1', rack: 'a2', server: 'web02' }],
    ]);
    const g = await j(`/render?format=json&from=-5min&target=${encodeURIComponent("aliasByTags(groupByTags(seriesByTag('name=disk.used'),'sum','datacenter'),'datacenter')")}`);
    assert.deepEqual((g.body as Array<{ target: string }>).map((s) => s.target), ['dc1', 'dc2']);
  } finally {
    await tagApp.stop();
  }
});

test('stop and start again ten times on port 0', async (t) => {
  if (!peers(t)) return;
  for (let i = 0; i < 10; i++) {
    const a = await startCarbonado(dir);
    const res = await fetch(`${a.httpUrl}/version`);
    assert.equal(res.status, 200);
    await res.text();
    await a.stop();
  }
});

// raw node:http so the request line is exactly what a browser sends for Grafana's find (unencoded braces)
test('find query with raw braces and commas in the body', async (t) => {
  if (!peers(t)) return;
  const url = new URL(`${base}/metrics/find`);
  const body = 'query=servers.{web01,db01}.cpu.*';
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.deepEqual((JSON.parse(text) as Array<{ id: string }>).map((n) => n.id), ['servers.{web01,db01}.cpu.system', 'servers.{web01,db01}.cpu.user']);
});

test('query DoS shapes with default limits: answered or refused, never unbounded', async (t) => {
  if (!peers(t)) return;
  const q = (p: Record<string, string | string[]>) => post('/render', { format: 'json', now: String(NOW), ...p });
  const stars = await q({ target: '*.*.*.*.*', from: '-100y' });
  assert.equal(stars.status, 200);
  // before 1970 the evaluator refuses the window (400); graphite-web would clamp it to the retention
  assert.equal((await q({ target: 'servers.*.cpu.user', from: '-100y' })).status, 400);
  const century = await q({ target: 'servers.*.cpu.user', from: '-10y', maxDataPoints: '1e9' });
  assert.equal(century.status, 200);
  const pts = ((await century.json()) as Array<{ datapoints: unknown[] }>)[0]!.datapoints.length;
  assert.ok(pts <= 720 + 1, `whisper clamps to its retention: ${pts}`);
  let deep = 'servers.web01.cpu.user';
  for (let i = 0; i < 50; i++) deep = `absolute(${deep})`;
  const nested = await q({ target: deep });
  assert.equal(nested.status, 400);
  const many = await q({ target: Array.from({ length: 1000 }, (_, i) => `servers.web0${i % 4 + 1}.cpu.user`) });
  assert.equal(many.status, 422);
  const d = app!.stats().instances['outputs.graphite']!.dropped;
  assert.ok((d.limit_depth ?? 0) >= 1 && (d.limit_targets ?? 0) >= 1, JSON.stringify(d));
});

test('urlPrefix serves every endpoint under a path prefix', async (t) => {
  if (!peers(t)) return;
  const prefixed = await startCarbonado(dir, { urlPrefix: '/graphite' });
  try {
    assert.equal(await (await fetch(`${prefixed.httpUrl}/graphite/version/`)).text(), '1.1.8\n');
    const find = (await (await fetch(`${prefixed.httpUrl}/graphite/metrics/find?query=*`)).json()) as Array<{ text: string }>;
    assert.deepEqual(find.map((n) => n.text), ['apps', 'servers', 'slow', 'special']);
    assert.equal((await fetch(`${prefixed.httpUrl}/version`)).status, 404);
  } finally {
    await prefixed.stop();
  }
});

test('maxPointsPerRequest counts points read, copied and generated before they are allocated', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `big.s${String(i).padStart(2, '0')}`);
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names } }, outputs: { graphite: { type: 'graphite_render', maxPointsPerRequest: 50_000 } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  try {
    const render = (target: string) => fetch(`${app.httpUrl}/render?format=json&from=-1d&until=now&target=${encodeURIComponent(target)}`);
    // 20 series x 1440 points read: within the budget
    const one = await render('sumSeries(big.*)');
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as Array<{ datapoints: unknown[] }>)[0]!.datapoints.length, 1440);
    // the same data used twice: a copy of 28,800 points on top of the 28,800 read
    const twice = await render('sumSeries(big.*, big.*)');
    assert.equal(twice.status, 422);
    assert.match(await twice.text(), /more than 50000 datapoints \(a second use of big\.s\d\d\)/);
    // a result of 8,640 points, but 10 x 8,640 generated on the way
    const hits = await render('sumSeries(hitcount(big.s0*, "10s"))');
    assert.equal(hits.status, 422);
    assert.match(await hits.text(), /datapoints \(hitcount\(\)\)/);
    assert.equal(app.stats().instances['outputs.graphite']!.dropped.limit_points, 2);
  } finally {
    await app.stop();
  }
});

test('maxPointsInFlight: a render that would pass the points other requests hold waits its turn, and is answered once they are', async () => {
  const names = [...Array.from({ length: 20 }, (_, i) => `big.s${String(i).padStart(2, '0')}`), 'slow.x'];
  const app = await startInProcess(
    {
      stores: { mem: { type: 'test_memory', names, slow: { prefix: 'slow.', ms: 1500 } } },
      outputs: { graphite: { type: 'graphite_render', maxPointsPerRequest: 100_000, maxPointsInFlight: 40_000 } },
    },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  try {
    const render = (target: string) => fetch(`${app.httpUrl}/render?format=json&from=-1d&until=now&target=${encodeURIComponent(target)}`);
    const gauge = () => app.stats().instances['outputs.graphite']!.gauges.points_in_flight;
    // a request alone may take more than the pool (57,600 points with the copy), up to its own limit
    assert.equal((await render('group(big.*, big.*)')).status, 200);
    // holds 28,800 points while slow.x takes its time
    const holder = render('group(big.*, slow.x)');
    await new Promise((resolve) => setTimeout(resolve, 400));
    // the gauge is live: a render still in progress shows what it holds
    assert.equal(gauge(), 28800);
    // 28,800 + 28,800 do not fit: this one waits (it was a 503 at once, and twenty panels loaded
    // together, each holding a share, were all refused)
    const t0 = performance.now();
    const waiting = render('sumSeries(big.*)').then(async (r) => ({ status: r.status, body: await r.text(), at: performance.now() - t0 }));
    assert.equal((await render('big.s00')).status, 200, '28,800 + 1,440 fit: not kept waiting');
    const held = await holder;
    const heldAt = performance.now() - t0;
    assert.equal(held.status, 200);
    assert.equal(((await held.json()) as unknown[]).length, 21);
    const w = await waiting;
    assert.equal(w.status, 200, w.body);
    assert.ok(w.at >= heldAt - 50, `answered once the holder was (${Math.round(w.at)} ms; the holder at ${Math.round(heldAt)} ms)`);
    await waitFor(() => gauge() === 0, 'points given back');
    assert.equal(app.stats().instances['outputs.graphite']!.dropped.limit_busy, undefined);
    // a request refused past its own limit, and one whose client went away, give theirs back too
    assert.equal((await render('group(big.*, big.*, big.*, big.*)')).status, 422);
    const gone = new AbortController();
    const abandoned = fetch(`${app.httpUrl}/render?format=json&from=-1d&until=now&target=${encodeURIComponent('group(big.*, slow.x)')}`, { signal: gone.signal }).catch((e: Error) => e);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const behind = render('sumSeries(big.*)');
    await new Promise((resolve) => setTimeout(resolve, 100));
    gone.abort();
    assert.ok((await abandoned) instanceof Error);
    assert.equal((await behind).status, 200, 'the render waiting behind it goes on once it is abandoned');
    await waitFor(() => gauge() === 0, 'points of the abandoned request given back');
  } finally {
    await app.stop();
  }
});

test('a regular expression that backtracks is stopped after a second (422), in every function and filter that takes one', { timeout: 60_000 }, async () => {
  const a40 = 'a'.repeat(40);
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names: [`q.${a40}`, `m;${a40}=1`] } }, outputs: { graphite: { type: 'graphite_render' } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  try {
    const get = (path: string) => fetch(`${app.httpUrl}${path}`);
    const render = (target: string) => get(`/render?format=json&from=-1h&until=now&target=${encodeURIComponent(target)}`);
    // each of these would take years at 40 characters (1.4 s at 27, doubling per character)
    for (const [what, req] of [
      ['grep', () => render('grep(q.*, "^(.|.)*!")')],
      ['exclude', () => render('exclude(q.*, "(a+)+b")')],
      ['aliasSub', () => render('aliasSub(q.*, "(a+)+b", "x")')],
      ['tags filter', () => get(`/tags?filter=${encodeURIComponent('(a+)+b')}`)],
    ] as const) {
      const t0 = performance.now();
      const res = await req();
      assert.equal(res.status, 422, what);
      assert.match(await res.text(), /took more than 1000 ms over the names \(a pattern that backtracks/, what);
      assert.ok(performance.now() - t0 < 10_000, `${what}: ${performance.now() - t0} ms`);
    }
    // an ordinary pattern is unaffected
    const ok = await render('aliasSub(q.*, "^q\\.(a{3}).*", "\\1")');
    assert.deepEqual(((await ok.json()) as Array<{ target: string }>).map((x) => x.target), ['aaa']);
  } finally {
    await app.stop();
  }
});

test('a large JSON answer is streamed as it is built: the same JSON, chunked, jsonp too', async () => {
  const names = Array.from({ length: 300 }, (_, i) => `big.s${String(i).padStart(3, '0')}`);
  const app = await startInProcess(
    { stores: { mem: { type: 'test_memory', names } }, outputs: { graphite: { type: 'graphite_render' } } },
    { plugins: [...builtinPlugins, memoryStorePlugin], clock: () => NOW },
  );
  try {
    const url = (extra: string) => `${app.httpUrl}/render?target=big.*&from=-1d&until=now&format=json${extra}`;
    const big = await fetch(url(''));
    assert.equal(big.status, 200);
    assert.equal(big.headers.get('content-length'), null, 'sent chunked');
    assert.equal(big.headers.get('content-type'), 'application/json; charset=utf-8');
    const text = await big.text();
    const body = JSON.parse(text) as Array<{ target: string; datapoints: Array<[number, number]> }>;
    assert.equal(body.length, 300);
    assert.deepEqual(body.map((s) => s.target), names);
    for (const s of body) assert.equal(s.datapoints.length, 1440);
    assert.deepEqual(body[7]!.datapoints[3], [((NOW - 86400 - (NOW % 60) + 60) / 60 + 3) % 10, NOW - 86400 - (NOW % 60) + 240]);
    // below the streaming threshold the same series come whole, with a length
    const small = await fetch(url('&maxDataPoints=10').replace('big.*', 'big.s00*'));
    assert.ok(Number(small.headers.get('content-length')) > 0);
    const jsonp = await (await fetch(url('&jsonp=cb'))).text();
    assert.ok(jsonp.startsWith('/**/cb(') && jsonp.endsWith(')'));
    assert.equal(jsonp.slice('/**/cb('.length, -1), text);
    // csv too (17.5 million points as one string ran out of heap)
    const csv = await fetch(url('').replace('format=json', 'format=csv&tz=Europe/Berlin'));
    assert.equal(csv.headers.get('content-length'), null, 'csv sent chunked');
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    const rows = (await csv.text()).split('\r\n');
    assert.equal(rows.length, 300 * 1440 + 1);
    assert.equal(rows[7 * 1440 + 3], `big.s007,${new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(body[7]!.datapoints[3]![1] * 1000))},${body[7]!.datapoints[3]![0]}.0`);
  } finally {
    await app.stop();
  }
});
