import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, spawnCarbonado, waitFor } from '../helpers/carbonado.js';
import { carbonadoFromSource } from '../helpers/from-source.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [...carbonadoFromSource(), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--version prints the package version; --help lists the commands', () => {
  const v = cli(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.out.trim(), JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
  const h = cli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /check-config/);
  assert.match(h.out, /carbonado \[--config FILE\]/);
  assert.equal(cli(['nonsense']).code, 2);
});

test('check-config: ok, and a bad file names the file, the instance, the path and the rule; every file is checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cli-'));
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(good, `inputs:\n  carbon: {type: carbon_line, port: 2003}\nstores:\n  main: {type: whisper, dataDir: ${join(dir, 'data')}}\n`);
  writeFileSync(bad, 'inputs:\n  carbon: {type: carbon_line, port: 65536}\n');
  const ok = cli(['check-config', good]);
  assert.equal(ok.code, 0);
  assert.equal(ok.out.trim(), `${good}: ok`);
  const no = cli(['check-config', bad]);
  assert.equal(no.code, 1);
  assert.equal(no.err.trim(), `${bad}: inputs.carbon (carbon_line): /port must be <= 65535`);
  // a rule the plugin checks across its options (in create(), as start-up would)
  const cross = join(dir, 'cross.yaml');
  writeFileSync(cross, 'inputs:\n  hub: {type: prometheus_scrape, intervalMs: 1000, timeoutMs: 5000}\n');
  const c = cli(['check-config', cross]);
  assert.equal(c.code, 1);
  assert.equal(c.err.trim(), `${cross}: inputs.hub (prometheus_scrape): timeoutMs (5000) must not exceed intervalMs (1000)`);
  // every instance that refuses its options is reported at once, a line each (it once stopped at the first)
  const two = join(dir, 'two.yaml');
  writeFileSync(two, `inputs:\n  a: {type: log_tail, files: []}\n  b: {type: log_tail, files: [${join(dir, 'x.log')}], rules: [{name: bad, pattern: '(', metric: x}]}\n  hub: {type: prometheus_scrape, intervalMs: 1000, timeoutMs: 5000}\n`);
  const t = cli(['check-config', two]);
  assert.equal(t.code, 1);
  assert.deepEqual(t.err.trim().split('\n'), [
    `${two}: inputs.a (log_tail): log_tail needs at least one entry in files`,
    `${two}: inputs.b (log_tail): rule "bad": invalid pattern: Invalid regular expression: /(/: Unterminated group`,
    `${two}: inputs.hub (prometheus_scrape): timeoutMs (5000) must not exceed intervalMs (1000)`,
  ]);
  // every file given is checked (it once checked the first and said ok)
  const r = cli(['check-config', good, bad, good]);
  assert.equal(r.code, 1);
  assert.equal(r.out, `${good}: ok\n${good}: ok\n`);
  assert.equal(r.err.trim(), `${bad}: inputs.carbon (carbon_line): /port must be <= 65535`);
  assert.equal(cli(['check-config', good, '--config', good]).code, 0);
  // valid, but not what anyone means: an empty file, inputs whose points nothing keeps
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '# the template did not render\n');
  const e = cli(['check-config', empty]);
  assert.equal(e.code, 0);
  assert.equal(e.err.trim(), `${empty}: warning: no inputs and no stores: this configuration receives and keeps nothing (is the file empty?)`);
  const noStore = join(dir, 'no-store.yaml');
  writeFileSync(noStore, 'inputs:\n  carbon: {type: carbon_line, port: 2003}\n');
  assert.equal(cli(['check-config', noStore]).err.trim(), `${noStore}: warning: inputs but no stores: every point received is dropped`);
});

test('a misspelt option, an option without its value or a stray argument is refused before anything starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cli-'));
  const conf = join(dir, 'hub.yaml');
  writeFileSync(conf, 'inputs:\n  carbon: {type: carbon_line, port: 2003}\n');
  // each of these once ran the embedded default config (every interface, ports 8080, 2003, 2004, 8125)
  const cases: Array<[string[], RegExp]> = [
    [['--config'], /^carbonado: --config needs a value/],
    [['--conifg', conf], /^carbonado: unknown option --conifg/],
    [['run', conf], /^carbonado: unexpected argument ".*hub\.yaml"/],
    [['--config', conf, 'extra'], /^carbonado: unexpected argument "extra"/],
    [['check-config', '--config'], /^carbonado check-config: --config needs a value/],
    [['import-whisper', dir, '--config', conf, '--stat', 'x'], /^carbonado import-whisper: unknown option --stat/],
    [['import-tags', 'names.txt', '--datadir', dir], /^carbonado import-tags: unknown option --datadir/],
    [['export-tags', '--data-dir', dir, '--to'], /^carbonado export-tags: --to needs a value/],
    [['export-tags', dir], /^carbonado export-tags: unexpected argument/],
    [['route', '--config', conf, '--stores', 'x'], /^carbonado route: unknown option --stores/],
  ];
  for (const [args, want] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, want);
  }
});

test("check-config reads a whisper store's rule files as start-up does", () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cli-'));
  const conf = (name: string, store: string) => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `stores:\n  main: {type: whisper, dataDir: ${join(dir, 'data')}, ${store}}\n`);
    return f;
  };
  writeFileSync(join(dir, 'bad-unit.conf'), '[a]\npattern = ^a\\.\nretentions = 10s:1x\n');
  writeFileSync(join(dir, 'carbon.conf'), '[carbon]\npattern = ^carbon\\.\nretentions = 60:90d\n');
  const unit = conf('unit', `schemas: [], schemasFile: ${join(dir, 'bad-unit.conf')}`);
  let r = cli(['check-config', unit]);
  assert.equal(r.code, 1);
  assert.match(r.err, /stores\.main: .*\[a\].*Invalid unit 'x'/);
  const missing = conf('missing', `aggregationFile: ${join(dir, 'nope.conf')}`);
  r = cli(['check-config', missing]);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot read storage-aggregation file .*nope\.conf/);
  // the default config's inline catch-all would hide the file: ok, with the warning start-up logs
  const hidden = conf('hidden', `schemas: [{name: default, pattern: '.*', retentions: '10s:6h'}], schemasFile: ${join(dir, 'carbon.conf')}`);
  r = cli(['check-config', hidden]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: schemasFile .*carbon\.conf: none of its 1 rules is ever used/);
});

test('a malformed config stops start-up with the key named; CARBONADO_CONFIG is honoured', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cli-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'http: {port: 0}\ninputs:\n  carbon: {type: carbon_line, maxLineBytes: 1}\n');
  const r = cli([], { CARBONADO_CONFIG: bad });
  assert.equal(r.code, 1);
  assert.equal(r.err.trim(), `carbonado: ${bad}: inputs.carbon (carbon_line): /maxLineBytes must be >= 64`);
});

test('a port in use fails start-up with one line naming the instance and the port, non-zero exit', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(
      spawnCarbonado({ inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port, protocols: 'tcp' } } }),
      (e: Error) => {
        assert.match(e.message, /exited with 1 before starting/);
        assert.ok(e.message.includes(`carbonado: inputs.carbon: cannot listen on tcp 127.0.0.1:${port}: address already in use`), e.message);
        return true;
      },
    );
  } finally {
    blocker.close();
  }
});

test('SIGINT stops a running carbonado with exit code 0', async () => {
  const p = await spawnCarbonado({ inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0 } } });
  const health = await fetch(`${p.httpUrl}/health`);
  assert.equal(health.status, 200);
  p.kill('SIGINT');
  assert.equal(await p.exited, 0);
  assert.match(p.output(), /SIGINT: draining/);
});

test('a repeated SIGINT: a copy within a second (npm forwarding Ctrl-C) keeps draining; a later one exits 1 at once', async () => {
  const p = await spawnCarbonado({
    plugins: [join(REPO_ROOT, 'test/fixtures/plugins/misbehaving-output.mjs')],
    outputs: { slow: { type: 'misbehaving', stopDelayMs: 20_000 } },
  });
  p.kill('SIGINT');
  await waitFor(() => p.output().includes('SIGINT: draining'), 'the drain to begin');
  p.kill('SIGINT');
  await waitFor(() => p.output().includes('SIGINT again within 1 s'), 'the copy to be noticed');
  assert.equal(p.child.exitCode, null, 'still draining');
  await new Promise((r) => setTimeout(r, 1100));
  const t0 = Date.now();
  p.kill('SIGINT');
  assert.equal(await p.exited, 1);
  assert.ok(Date.now() - t0 < 5000, 'exited without waiting for the 20 s stop');
  assert.match(p.output(), /SIGINT again: exiting without waiting for the drain/);
});

test('SIGHUP during start-up (systemctl reload right after a start) does not end carbonado: the reload runs once started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cli-'));
  const conf = join(dir, 'slow.yaml');
  writeFileSync(
    conf,
    `http: { host: 127.0.0.1, port: 0 }\nselfMetrics: { intervalSecs: 0 }\nplugins: [${JSON.stringify(join(REPO_ROOT, 'test/fixtures/plugins/misbehaving-output.mjs'))}]\n` +
      'outputs:\n  slow: { type: misbehaving, startDelayMs: 1500 }\n',
  );
  const child = spawn(process.execPath, [...carbonadoFromSource(), '--config', conf], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => out.includes('started http'), 'start-up under way');
    child.kill('SIGHUP'); // while outputs.slow is starting
    await waitFor(() => out.includes('SIGHUP during start-up: reloading now') || child.exitCode !== null || child.signalCode !== null, 'the start to finish', 20_000);
    assert.equal(child.signalCode, null, `ended by ${child.signalCode}:\n${out}`);
    assert.match(out, /started outputs\.slow/);
    child.kill('SIGHUP');
    await waitFor(() => out.includes('SIGHUP: reload'), 'a reload once running');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('out of file descriptors (idle connections up to the limit), carbonado stays up and answers again once they close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cli-'));
  const conf = join(dir, 'fd.yaml');
  writeFileSync(conf, 'http: { host: 127.0.0.1, port: 0 }\nselfMetrics: { intervalSecs: 1 }\n');
  const node = [process.execPath, ...carbonadoFromSource(), '--config', conf].map((a) => `'${a}'`).join(' ');
  const child = spawn('sh', ['-c', `ulimit -n 120 && exec ${node}`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const sockets: Socket[] = [];
  try {
    await waitFor(() => /started http (http:\/\/\S+)/.test(out), 'started', 30_000);
    const url = /started http (http:\/\/\S+)/.exec(out)![1]!;
    const port = Number(new URL(url).port);
    for (let i = 0; i < 150; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    // self-metrics read /proc at every tick (each second here): out of descriptors that threw
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(child.exitCode, null, `exited:\n${out}`);
    for (const s of sockets) s.destroy();
    await waitFor(async () => (await fetch(`${url}/health`).catch(() => undefined))?.status === 200, 'answers again', 10_000);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    for (const s of sockets) s.destroy();
    child.kill('SIGKILL');
  }
});
