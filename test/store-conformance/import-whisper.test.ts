import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Runtime } from '../../core/runtime/runtime.js';
import type { StoreInstance } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { DEBIAN_PYTHON, hasPythonModule, requirePeer } from '../helpers/peers.js';
import { REPO_ROOT } from '../helpers/carbonado.js';
import { carbonadoFromSource } from '../helpers/from-source.js';

const RULES = {
  schemas: [{ name: 'all', pattern: '.*', retentions: '10s:1h,1m:1d,10m:30d' }],
  aggregation: [
    { name: 'sum', pattern: '\\.count$', xFilesFactor: 0, aggregationMethod: 'sum' },
    { name: 'max', pattern: '\\.upper$', xFilesFactor: 0.1, aggregationMethod: 'max' },
    { name: 'avg', pattern: '.*', xFilesFactor: 0.5, aggregationMethod: 'average' },
  ],
};

test('import-whisper: a tree made by Python whisper reads identically from the sqlite store', async (t) => {
  if (!requirePeer(t, hasPythonModule('whisper'), 'python3-whisper')) return;
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-import-'));
  const tree = join(dir, 'whisper');
  const now = Math.floor(Date.now() / 1000);
  // files as carbon would have made them with the same rules, filled over two days
  const py = `
import whisper, os, random, time
random.seed(3)
root = ${JSON.stringify(tree)}
now = ${now}
time.time = lambda: now
specs = {'app.req.count': 'sum', 'app.lat.upper': 'max', 'app.lat.mean': 'average', 'host.web1.cpu': 'average'}
for name, method in specs.items():
    path = os.path.join(root, *name.split('.')) + '.wsp'
    os.makedirs(os.path.dirname(path), exist_ok=True)
    whisper.create(path, [(10, 360), (60, 1440), (600, 4320)], xFilesFactor={'sum': 0, 'max': 0.1}.get(method, 0.5), aggregationMethod=method)
    for start in range(now - 2 * 86400, now, 600):
        pts = [(t, round(random.uniform(-5, 100), 3)) for t in range(start, min(start + 600, now), 10) if random.random() < 0.9]
        whisper.update_many(path, pts)
# tagged series as carbon names them by default: the file name is the sha256 of the series name
import hashlib
for name, v in (('tag.cpu;dc=eu', 1.5), ('tag.mem;dc=us', 2.5), ('tag.unnamed;k=v', 3.5)):
    h = hashlib.sha256(name.encode()).hexdigest()
    path = os.path.join(root, '_tagged', h[0:3], h[3:6], h + '.wsp')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    whisper.create(path, [(10, 360), (60, 1440), (600, 4320)], xFilesFactor=0.5, aggregationMethod='average')
    whisper.update_many(path, [(now - now % 10 - 60, v), (now - now % 10 - 50, v * 2)])
# a name carbon takes from a pickle, which no carbonado input accepts
path = os.path.join(root, 'host', 'web 2', 'cpu.wsp')
os.makedirs(os.path.dirname(path), exist_ok=True)
whisper.create(path, [(10, 360)])
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const cfgFile = join(dir, 'carbonado.yaml');
  writeFileSync(cfgFile, stringify({ stores: { db: { type: 'sqlite', path: join(dir, 'carbonado.db'), ...RULES } } }));
  const state = join(dir, 'state.json');
  // two of the three tagged names, from two sources (a list, and a /tags/findSeries answer)
  writeFileSync(join(dir, 'names.txt'), 'tag.cpu;dc=eu\n');
  writeFileSync(join(dir, 'names.json'), '["tag.mem;dc=us"]');
  const run = (...extra: string[]) =>
    spawnSync(process.execPath, [...carbonadoFromSource(), 'import-whisper', tree, '--config', cfgFile, '--state', state, '--tag-names', join(dir, 'names.txt'), '--tag-names', join(dir, 'names.json'), ...extra], { encoding: 'utf8', cwd: REPO_ROOT });
  const first = run();
  assert.equal(first.status, 0, first.stderr);
  const summary = JSON.parse(first.stdout.trim().split('\n').pop()!);
  assert.equal(summary.files, 8);
  assert.equal(summary.points_dropped, 0);
  assert.equal(summary.series, 6);
  assert.equal(summary.skipped_hashed_tagged, 1);
  assert.equal(summary.skipped_bad_name, 1);
  assert.match(first.stderr, /host\/web 2\/cpu\.wsp: skipped: not a series name carbonado accepts \(character 0x20 not allowed in a name\)/);
  assert.ok(summary.points > 4 * 300, JSON.stringify(summary));
  assert.ok(existsSync(state));
  // resumable: a second run skips what is done
  const second = run();
  const again = JSON.parse(second.stdout.trim().split('\n').pop()!);
  // the unnamed tagged file is not marked done: a run that can name it imports it
  assert.deepEqual([again.skipped_done, again.skipped_hashed_tagged], [7, 1]);
  writeFileSync(join(dir, 'more.txt'), 'tag.unnamed;k=v\n');
  const third = JSON.parse(run('--tag-names', join(dir, 'more.txt')).stdout.trim().split('\n').pop()!);
  assert.deepEqual([third.series, third.skipped_done, third.skipped_hashed_tagged], [1, 7, 0]);
  // a source that cannot be read stops the command before anything is imported, naming it
  const bad = run('--tag-names', join(dir, 'nope.db'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /nope\.db: .*ENOENT/);
  assert.equal(run('--tag-names').status, 2);
  // an error after the store started stops it and exits (its threads would keep the process up)
  const missing = spawnSync(process.execPath, [...carbonadoFromSource(), 'import-whisper', join(dir, 'no-such-tree'), '--config', cfgFile, '--state', join(dir, 's2.json')], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 30_000 });
  assert.equal(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /ENOENT/);

  const rt = await Runtime.create(
    {
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'error' },
      selfMetrics: { intervalSecs: 0 },
      stores: { db: { type: 'sqlite', path: join(dir, 'carbonado.db'), ...RULES }, wsp: { type: 'whisper', dataDir: tree, ...RULES } },
    },
    { plugins: builtinPlugins, file: 'test' },
  );
  await rt.start();
  try {
    const db = rt.instance<StoreInstance>('stores.db')!;
    const wsp = rt.instance<StoreInstance>('stores.wsp')!;
    // (tagged series are compared below: the whisper tree also holds the one left unnamed)
    const plain = async (s: StoreInstance) => (await s.find('*.*.*')).map((n) => n.path).filter((p) => !p.startsWith('_tagged.')).sort();
    // the whisper store reads the file whose name has a space (it cannot write to it); not imported
    assert.deepEqual(await plain(db), (await plain(wsp)).filter((p) => p !== 'host.web 2.cpu'));
    assert.ok((await plain(wsp)).includes('host.web 2.cpu'));
    const [cpu, mem] = await db.fetch(['tag.cpu;dc=eu', 'tag.mem;dc=us'], now - 120, now, { now });
    const at = (now - (now % 10) - 60 - cpu!.start) / 10;
    assert.deepEqual([cpu!.values[at], cpu!.values[at + 1], mem!.values[at]], [1.5, 3, 2.5]);
    assert.deepEqual(await db.tags!.tagValues('dc'), ['eu', 'us']);
    const names = ['app.req.count', 'app.lat.upper', 'app.lat.mean', 'host.web1.cpu'];
    for (const [from, until] of [[now - 1800, now], [now - 20 * 3600, now], [now - 2 * 86400, now - 86400], [now - 7200, now - 3000]] as const) {
      const a = await db.fetch(names, from, until, { now });
      const b = await wsp.fetch(names, from, until, { now });
      assert.equal(a.length, 4);
      for (let i = 0; i < 4; i++) {
        assert.deepEqual([a[i]!.name, a[i]!.start, a[i]!.step], [b[i]!.name, b[i]!.start, b[i]!.step]);
        const av = [...a[i]!.values];
        const bv = [...b[i]!.values];
        av.forEach((v, k) => {
          const w = bv[k]!;
          if (Number.isNaN(v) || Number.isNaN(w)) assert.ok(Number.isNaN(v) && Number.isNaN(w), `${a[i]!.name} ${from} slot ${k}: ${v} vs ${w}`);
          else assert.ok(Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${a[i]!.name} ${from}..${until} slot ${k}: ${v} vs ${w}`);
        });
      }
    }
  } finally {
    await rt.stop();
  }
});

test('import-whisper: points the store does not keep (older than its retention) are counted and named, not reported as imported', async (t) => {
  if (!requirePeer(t, hasPythonModule('whisper'), 'python3-whisper')) return;
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-import-old-'));
  const tree = join(dir, 'src');
  const py = `
import os, sys, time, whisper
p = os.path.join(sys.argv[1], 'a', 'b.wsp')
os.makedirs(os.path.dirname(p))
whisper.create(p, [(60, 30 * 1440)])
now = int(time.time())
for d in (1, 2, 3, 10, 20):
    whisper.update(p, d, now - d * 86400)
whisper.update(p, 99, now - 120)
`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', py, tree], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // a whisper store applies its own rules: one day, so five of the six points are too old
  const cfgFile = join(dir, 'c.yaml');
  writeFileSync(cfgFile, stringify({ stores: { w: { type: 'whisper', dataDir: join(dir, 'data'), schemas: [{ name: 'all', pattern: '.*', retentions: '60s:1d' }] } } }));
  const state = join(dir, 'state.json');
  const run = spawnSync(process.execPath, [...carbonadoFromSource(), 'import-whisper', tree, '--config', cfgFile, '--state', state], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
  assert.deepEqual([summary.points, summary.points_dropped, summary.dropped_by], [6, 5, { too_old: 5 }]);
  assert.match(run.stderr, /5 points are older than the retention the store gives their series and were not stored \(this store applies the config's rules/);
  assert.match(run.stderr, new RegExp(`marked done in ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: to import them again with longer rules, remove it`));
});
