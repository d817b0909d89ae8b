// Moving from carbon + graphite-web with tags to carbonado, as an operator would: Debian's
// carbon-cache 1.1.7 (ENABLE_TAGS, registering series in graphite-web 1.1.8's local tag database)
// writes tagged series, first with readable file names (TAG_HASH_FILENAMES = False), then hashed
// ones (its default). carbonado, started on the same whisper directory after `carbonado
// import-tags graphite.db`, must answer seriesByTag and the /tags API as graphite-web does, and
// graphite-web must still read the tree after carbonado renamed the readable files. Going back, the
// tagged series carbonado created are found by graphite-web after `carbonado export-tags --to`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';
import { REPO_ROOT, startInProcess, waitFor } from '../helpers/carbonado.js';
import { pointBatch } from '../../core/index.js';
import type { WhisperStore } from '../../plugins/stores/whisper/whisper-store.js';
import { freePort } from '../helpers/ports.js';
import { carbonadoFromSource } from '../helpers/from-source.js';

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'graphite-web-tags');
const NOW = Math.floor(Date.now() / 1000);
const FROM = NOW - (NOW % 10) - 300;
const UNTIL = FROM + 200;

const READABLE = ['legacy.cpu;dc=eu;host=a.b', 'legacy.mem;dc=us;host=a.b'];
const HASHED = ['hashed.cpu;dc=eu;host=c', 'hashed.disk;dc=us;host=c;mount=/var'];

function stopPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startGraphiteWeb(dir: string, whisper: string): Promise<{ url: string; child: ChildProcess }> {
  mkdirSync(join(dir, 'log'), { recursive: true });
  const env = { ...process.env, GW_STORAGE_DIR: dir, GW_WHISPER_DIR: whisper, PYTHONPATH: FIXTURE, GRAPHITE_SETTINGS_MODULE: 'tags_local_settings', DJANGO_SETTINGS_MODULE: 'graphite.settings' };
  const m = spawnSync(DEBIAN_PYTHON, ['-m', 'django', 'migrate', '--noinput'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(m.status, 0, m.stderr);
  const port = await freePort();
  const child = spawn(DEBIAN_PYTHON, ['-m', 'gunicorn', '--bind', `127.0.0.1:${port}`, '--workers', '1', '--timeout', '120', '--access-logfile', '/dev/null', '--error-logfile', join(dir, 'log', 'gunicorn.log'), 'graphite.wsgi:application'], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/tags`).catch(() => undefined))?.ok, 'graphite-web to answer', 60_000, 200);
  return { url, child };
}

function carbonConf(dir: string, whisper: string, gwUrl: string, ports: number[], hashFilenames: boolean): string {
  for (const d of ['conf', 'lists', 'log', 'run']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'conf', 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 10s:1d\n');
  writeFileSync(join(dir, 'conf', 'storage-aggregation.conf'), '[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n');
  const conf = join(dir, 'conf', 'carbon.conf');
  writeFileSync(
    conf,
    `[cache]
STORAGE_DIR = ${dir}/
LOCAL_DATA_DIR = ${whisper}/
WHITELISTS_DIR = ${dir}/lists/
CONF_DIR = ${dir}/conf/
LOG_DIR = ${dir}/log/
PID_DIR = ${dir}/run/
ENABLE_LOGROTATION = False
USER =
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${ports[0]}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${ports[1]}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${ports[2]}
ENABLE_TAGS = True
GRAPHITE_URL = ${gwUrl}
TAG_HASH_FILENAMES = ${hashFilenames ? 'True' : 'False'}
CARBON_METRIC_INTERVAL = 0
`,
  );
  return conf;
}

/** Runs carbon-cache until every line's series is on disk and registered in graphite-web, then stops it. */
async function carbonWrites(dir: string, whisper: string, gwUrl: string, hashFilenames: boolean, names: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    // three free ports now; another test may take one before carbon-cache binds it, and then
    // carbon-cache exits: that is retried on new ports
    const ports = [await freePort(), await freePort(), await freePort()];
    const conf = carbonConf(dir, whisper, gwUrl, ports, hashFilenames);
    const child = spawn(DEBIAN_PYTHON, ['/usr/bin/carbon-cache', `--config=${conf}`, '--nodaemon', 'start'], { env: { ...process.env, GRAPHITE_ROOT: dir }, stdio: 'ignore' });
    const alive = (): true => {
      if (child.exitCode !== null || child.signalCode !== null) throw new CarbonExited(`carbon-cache exited (${child.exitCode ?? child.signalCode})`);
      return true;
    };
    try {
      const lines = names.flatMap((n, s) => [0, 1, 2].map((k) => `${n} ${s * 10 + k} ${FROM + 50 + k * 10}\n`)).join('');
      await waitFor(
        () =>
          alive() &&
          new Promise<boolean>((resolve) => {
            const sock = connect(ports[0]!, '127.0.0.1', () => sock.end(lines, () => resolve(true)));
            sock.on('error', () => resolve(false));
          }),
        'carbon-cache to accept lines',
        30_000,
        200,
      );
      await waitFor(
        async () => {
          alive();
          const known = (await (await fetch(`${gwUrl}/tags/findSeries?expr=name!=`)).json()) as string[];
          if (!names.every((n) => known.includes(n))) return false;
          // every point on disk, read by graphite-web
          const r = (await (await fetch(`${gwUrl}/render?format=json&from=${FROM}&until=${UNTIL}&${names.map((n) => `target=${encodeURIComponent(n)}`).join('&')}`)).json()) as Array<{ datapoints: Array<[number | null, number]> }>;
          return r.length === names.length && r.every((s) => s.datapoints.filter((p) => p[0] !== null).length === 3);
        },
        'carbon-cache to write and register the series',
        60_000,
        250,
      );
      return;
    } catch (err) {
      if (err instanceof CarbonExited && attempt < 3) continue;
      const log = join(dir, 'log', 'console.log');
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '(no console.log)';
      throw new Error(`${(err as Error).message}; carbon-cache's console.log ends:\n${tail}`);
    } finally {
      await stopPid(child);
    }
  }
}

class CarbonExited extends Error {}

/** The answers compared: what Grafana asks of a tagged setup. */
const QUERIES = [
  `/render?format=json&from=${FROM}&until=${UNTIL}&target=${encodeURIComponent("seriesByTag('dc=eu')")}`,
  `/render?format=json&from=${FROM}&until=${UNTIL}&target=${encodeURIComponent("seriesByTag('name=~.*', 'host=a.b')")}`,
  `/render?format=json&from=${FROM}&until=${UNTIL}&target=${encodeURIComponent("sumSeries(seriesByTag('dc=us'))")}`,
  `/render?format=json&from=${FROM}&until=${UNTIL}&target=${encodeURIComponent("aliasByTags(seriesByTag('mount=/var'), 'name', 'mount')")}`,
  '/tags/findSeries?expr=name!=',
  '/tags/findSeries?expr=dc=us',
  '/tags/autoComplete/tags',
  '/tags/autoComplete/values?tag=host',
];

async function answers(base: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const q of QUERIES) {
    const res = await fetch(`${base}${q}`);
    assert.equal(res.status, 200, `${base}${q}`);
    const body = (await res.json()) as unknown;
    // render answers: the same series, in the order of their names (stores list files in their own order)
    out.push(Array.isArray(body) && typeof body[0] === 'object' ? [...body].sort((a, b) => String((a as { target: string }).target).localeCompare((b as { target: string }).target)) : body);
  }
  return out;
}

test('a carbon + graphite-web tree with tags: carbonado import-tags, then the same answers as graphite-web, and graphite-web still reads it', { timeout: 240_000 }, async (t) => {
  const ok = hasPythonModule('carbon') && hasPythonModule('whisper') && hasPythonModule('graphite') && hasPythonModule('gunicorn') && existsSync('/usr/bin/carbon-cache');
  if (!requirePeer(t, ok, 'graphite-carbon graphite-web gunicorn')) return;
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-tags-migration-'));
  const whisper = join(dir, 'whisper');
  mkdirSync(whisper);
  const gw = await startGraphiteWeb(join(dir, 'gw'), whisper);
  t.after(async () => {
    await stopPid(gw.child);
    rmSync(dir, { recursive: true, force: true });
  });
  await carbonWrites(join(dir, 'carbon-readable'), whisper, gw.url, false, READABLE);
  await carbonWrites(join(dir, 'carbon-hashed'), whisper, gw.url, true, HASHED);
  const files = spawnSync('find', [join(whisper, '_tagged'), '-name', '*.wsp'], { encoding: 'utf8' }).stdout;
  assert.equal((files.match(/_DOT_/g) ?? []).length > 0, true, 'readable file names from carbon');
  assert.equal((files.match(/\/[0-9a-f]{64}\.wsp/g) ?? []).length, HASHED.length, 'hashed file names from carbon');
  const reference = await answers(gw.url);
  assert.equal((reference[0] as unknown[]).length, 2, 'graphite-web finds both dc=eu series');

  const cli = spawnSync(process.execPath, [...carbonadoFromSource(), 'import-tags', join(dir, 'gw', 'graphite.db'), '--data-dir', whisper], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual(JSON.parse(cli.stdout), { names: 4, added: 2, known: 0, readable_file: 2, no_file: 0, untagged: 0, bad_name: 0 });

  const c = await startInProcess({
    stores: { main: { type: 'whisper', dataDir: whisper } },
    outputs: { render: { type: 'graphite_render' } },
  });
  try {
    assert.deepEqual(await answers(c.httpUrl), reference);
    // carbonado moved the readable files to their hashed names, as carbon-cache would have
    const after = spawnSync('find', [join(whisper, '_tagged'), '-name', '*.wsp'], { encoding: 'utf8' }).stdout;
    assert.equal((after.match(/_DOT_/g) ?? []).length, 0);
    // graphite-web reads the tree as carbonado left it: going back stays possible
    assert.deepEqual(await answers(gw.url), reference);
    // series only carbonado knows: a new tagged one and a new plain one
    c.runtime.instance<WhisperStore>('stores.main')!.write(pointBatch([
      ['fresh.cpu;dc=eu;host=d', 7, FROM + 60],
      ['fresh.plain', 8, FROM + 60],
    ]));
  } finally {
    await c.stop();
  }
  assert.match(readFileSync(join(whisper, '_tagged', '.carbonado-tagged-names'), 'utf8'), /legacy\.cpu;dc=eu;host=a\.b/);

  // going back: graphite-web reads the new file by path, but finds it by tag only once registered
  const byTag = async (expr: string) => (await (await fetch(`${gw.url}/tags/findSeries?expr=${encodeURIComponent(expr)}`)).json()) as string[];
  assert.ok(!(await byTag('dc=eu')).includes('fresh.cpu;dc=eu;host=d'));
  const exportTags = (...args: string[]) => spawnSync(process.execPath, [...carbonadoFromSource(), 'export-tags', '--data-dir', whisper, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  const listed = exportTags();
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(listed.stdout.split('\n').filter(Boolean).sort(), ['fresh.cpu;dc=eu;host=d', ...HASHED, ...READABLE].sort());
  const all = exportTags('--all');
  assert.ok(all.stdout.split('\n').includes('fresh.plain'), all.stdout);
  const sent = exportTags('--to', gw.url, '--all');
  assert.equal(sent.status, 0, sent.stderr);
  assert.deepEqual(JSON.parse(sent.stdout), { names: 6, registered: 6, failed: 0 });
  assert.ok((await byTag('dc=eu')).includes('fresh.cpu;dc=eu;host=d'));
  assert.deepEqual(await byTag('name=fresh.plain'), ['fresh.plain']);
  const r = (await (await fetch(`${gw.url}/render?format=json&from=${FROM}&until=${UNTIL}&target=${encodeURIComponent("seriesByTag('host=d')")}`)).json()) as Array<{ target: string; datapoints: Array<[number | null, number]> }>;
  assert.deepEqual(r.map((s) => [s.target, s.datapoints.filter((p) => p[0] !== null)]), [['fresh.cpu;dc=eu;host=d', [[7, FROM + 60]]]]);
  // a graphite-web that cannot be reached: a failure, named
  const down = exportTags('--to', `http://127.0.0.1:${await freePort()}`);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /export-tags: http:\/\/127\.0\.0\.1:\d+\/tags\/tagMultiSeries: /);
  assert.deepEqual(JSON.parse(down.stdout), { names: 5, registered: 0, failed: 5 });
});
