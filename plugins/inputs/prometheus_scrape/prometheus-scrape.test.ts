import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hasCommand, requirePeer } from '../../../test/helpers/peers.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { testContext, until } from '../../../test/jupyterhub/context.js';
import plugin from './index.js';
import type { PrometheusScrapeOptions } from './options.js';
import type { PrometheusScrape } from './prometheus-scrape.js';

const BODY = readFileSync(new URL('../../../test/jupyterhub/fixtures/hub-metrics.txt', import.meta.url), 'utf8');
const TOKEN = 's3cret-token';

/** What the local hub answers next; tests switch it between scrapes. */
let mode = 'ok';
let server: Server;
let base: string;
const hanging: ServerResponse[] = [];

before(async () => {
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('403 Forbidden: missing or invalid token\n');
      return;
    }
    switch (mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(BODY);
        return;
      case 'gzip':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-encoding': 'gzip' }).end(gzipSync(BODY));
        return;
      case 'slow':
        hanging.push(res);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('jupyterhub_running_servers 1\n'); // headers and a first line, then nothing
        return;
      case 'truncated': {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length + 500) });
        res.write(BODY.slice(0, 400));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      case 'unterminated':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('jupyterhub_running_servers 3\njupyterhub_total_us');
        return;
      case 'big': {
        // ~10 MB, streamed without a Content-Length: the cap must stop reading, not buffer it all.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const line = `${'x'.repeat(90)}_total 1\n`;
        const chunk = line.repeat(1000);
        let sent = 0;
        const pump = (): void => {
          while (sent < 10_000_000) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('jupyterhub_running_servers 3\nthis is not exposition\n');
        return;
      default:
        res.writeHead(500).end('boom\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const r of hanging) r.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function options(o: Partial<PrometheusScrapeOptions> = {}): PrometheusScrapeOptions {
  return {
    url: `${base}/hub/metrics`,
    intervalMs: 60_000,
    timeoutMs: 1000,
    maxBodyBytes: 4194304,
    bearerToken: TOKEN,
    bearerTokenFile: '',
    tls: 'verify',
    prefix: '',
    timestamps: 'exposed',
    ...o,
  };
}

test('a scrape turns the exposition into tagged points (NaN and ±Inf dropped and counted)', async () => {
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ prefix: 'hub' })) as PrometheusScrape;
  const before = Math.floor(Date.now() / 1000);
  mode = 'ok';
  await inst.scrapeOnce();
  t.ctx.points.flush();
  assert.equal(t.points.length, 12);
  const byName = new Map(t.points.map((p) => [p.name, p]));
  assert.equal(byName.get('hub.jupyterhub_running_servers')?.value, 12);
  assert.ok(byName.get('hub.jupyterhub_running_servers')!.time >= before);
  assert.equal(byName.get('hub.jupyterhub_active_users;period=7d')?.value, 41);
  assert.equal(byName.get('hub.jupyterhub_server_spawn_duration_seconds_bucket;le=+Inf;status=failure')?.value, 2);
  assert.equal(byName.get('hub.weird;exported_name=x;msg=say_"hi"_bye;path=C:\\dir\\file')?.time, 1714564800);
  assert.equal(t.stats.dropped.get('non_finite'), 2);
  assert.equal(t.stats.received, 12);
  assert.equal(t.stats.gauges.get('up'), 1);
});

test('gzip bodies are decoded; timestamps: scrape ignores exposed ones', async () => {
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ timestamps: 'scrape' })) as PrometheusScrape;
  mode = 'gzip';
  await inst.scrapeOnce();
  t.ctx.points.flush();
  assert.equal(t.points.length, 12);
  const weird = t.points.find((p) => p.name.startsWith('weird;'));
  assert.ok(weird !== undefined && weird.time > 1714564800);
});

test('401, timeout, truncated, unterminated, 10 MB and malformed bodies are counted, logged once per state change', async () => {
  const t = testContext();
  // generous: under load, 4 MiB of the 10 MB body must arrive before the deadline to hit the cap
  const inst = plugin.create(t.ctx, options({ timeoutMs: 1500, maxBodyBytes: 4194304 })) as PrometheusScrape;
  const noToken = plugin.create(t.ctx, options({ bearerToken: 'wrong' })) as PrometheusScrape;
  for (let i = 0; i < 3; i++) await noToken.scrapeOnce();
  assert.equal(t.stats.errors.get('http_401'), 3);
  const warns = (): string[] => t.logs.filter((l) => / warn /.test(l));
  assert.equal(warns().length, 1);
  assert.match(warns()[0]!, /reason=http_401/);
  assert.doesNotMatch(t.logs.join(''), new RegExp(TOKEN));

  const expectations: Array<[string, string]> = [
    ['slow', 'timeout'],
    ['truncated', 'truncated'],
    ['unterminated', 'truncated'],
    ['big', 'too_large'],
    ['malformed', 'parse'],
    ['error500', 'http_status'],
  ];
  for (const [m, reason] of expectations) {
    mode = m;
    const started = Date.now();
    const was = t.stats.errors.get(reason) ?? 0;
    await inst.scrapeOnce();
    await inst.scrapeOnce();
    assert.equal(t.stats.errors.get(reason), was + 2, `${m} → ${reason}`);
    assert.ok(Date.now() - started < 5000, `${m} bounded in time`);
  }
  // one warning per state change, not per failed scrape
  assert.equal(warns().length, 1 + expectations.length - 1 /* truncated twice in a row */);
  assert.equal(t.points.length, 0);
  assert.equal(t.stats.gauges.get('up'), 0);
  mode = 'ok';
  await inst.scrapeOnce();
  assert.ok(t.logs.some((l) => /scrape recovered/.test(l)));
  assert.equal(t.stats.gauges.get('up'), 1);
});

test('runs on its interval after start, reads the token file each time, and stop aborts a hanging scrape', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'prom-'));
  try {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const t = testContext();
    mode = 'ok';
    const inst = plugin.create(t.ctx, options({ intervalMs: 100, timeoutMs: 100, bearerToken: '', bearerTokenFile: tokenFile }));
    await inst.start();
    await until(() => (t.stats.counters.get('scrapes') ?? 0) >= 3, 5000, 'three scrapes');
    assert.equal(t.stats.errorsTotal(), 0);
    await inst.stop();
    const n = t.stats.counters.get('scrapes');
    // stop in the middle of a hanging scrape resolves promptly
    mode = 'slow';
    const slow = plugin.create(t.ctx, options({ intervalMs: 5000, timeoutMs: 5000 }));
    await slow.start();
    await until(() => hanging.length > 0, 5000, 'hanging request');
    const s0 = Date.now();
    await slow.stop();
    assert.ok(Date.now() - s0 < 1000);
    assert.ok((t.stats.counters.get('scrapes') ?? 0) >= n!);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('create validates: timeout over interval, two token sources', () => {
  const t = testContext();
  assert.throws(() => plugin.create(t.ctx, options({ timeoutMs: 20_000, intervalMs: 10_000 })), /must not exceed/);
  assert.throws(() => plugin.create(t.ctx, options({ bearerTokenFile: '/x' })), /not both/);
  assert.throws(() => plugin.create(t.ctx, options({ prefix: 'a b' })), /not a valid metric path/);
});

test('https: a self-signed hub fails with tls verify and works with tls insecure', async (t) => {
  if (!requirePeer(t, hasCommand('openssl'), 'openssl')) return;
  const dir = await mkdtemp(join(tmpdir(), 'prom-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    assert.equal(gen.status, 0);
    const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.writeHead(200).end(BODY));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/hub/metrics`;
      const t1 = testContext();
      await (plugin.create(t1.ctx, options({ url })) as PrometheusScrape).scrapeOnce();
      assert.equal(t1.stats.errors.get('connect'), 1);
      const t2 = testContext();
      await (plugin.create(t2.ctx, options({ url, tls: 'insecure' })) as PrometheusScrape).scrapeOnce();
      assert.equal(t2.stats.errorsTotal(), 0);
      assert.equal(t2.stats.received, 12);
    } finally {
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
