// deploy/Dockerfile and deploy/carbonado.service cannot run here (no Docker, no systemd), so this
// checks what they promise and runs their entry command, as built by `npm run build`, the way
// the container and the unit do: a working directory for relative data paths, SIGTERM to stop,
// and the HEALTHCHECK command against /health.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { REPO_ROOT, waitFor } from '../helpers/carbonado.js';

const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
const unit = readFileSync(join(REPO_ROOT, 'deploy', 'carbonado.service'), 'utf8');

/** Instructions of the final stage, continuation lines joined. */
function finalStage(): Map<string, string[]> {
  const text = dockerfile.replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m);
  const out = new Map<string, string[]>();
  for (const line of stages[stages.length - 1]!.split('\n')) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

function one(ins: Map<string, string[]>, key: string): string {
  const v = ins.get(key);
  assert.ok(v && v.length === 1, `exactly one ${key}`);
  return v[0]!;
}

test('the Dockerfile: one process, SIGTERM, non-root, data volume, health check, the ports', () => {
  const ins = finalStage();
  assert.equal(one(ins, 'STOPSIGNAL'), 'SIGTERM');
  const user = one(ins, 'USER');
  assert.ok(user !== 'root' && user !== '0', 'non-root user');
  assert.match(one(ins, 'VOLUME'), /\/var\/lib\/carbonado/);
  assert.equal(one(ins, 'WORKDIR'), '/var/lib/carbonado');
  const exposed = one(ins, 'EXPOSE').split(/\s+/);
  for (const p of ['8125/udp', '8125/tcp', '2003/tcp', '2004/tcp', '8080/tcp']) assert.ok(exposed.includes(p), p);
  assert.match(one(ins, 'HEALTHCHECK'), /\/health/);
  const entry = JSON.parse(one(ins, 'ENTRYPOINT')) as string[];
  const cmd = JSON.parse(one(ins, 'CMD')) as string[];
  assert.deepEqual(entry, ['node', '/opt/carbonado/dist/bin/carbonado.js']);
  assert.deepEqual(cmd, ['--config', '/etc/carbonado/carbonado.yaml']);
});

test('the systemd unit runs the same command, stops with SIGTERM, as its own user', () => {
  const get = (k: string): string => {
    const m = new RegExp(`^${k}=(.*)$`, 'm').exec(unit);
    assert.ok(m, k);
    return m[1]!;
  };
  assert.equal(get('ExecStart'), '/usr/bin/node /opt/carbonado/dist/bin/carbonado.js --config /etc/carbonado/carbonado.yaml');
  assert.equal(get('KillSignal'), 'SIGTERM');
  assert.equal(get('User'), 'carbonado');
  assert.equal(get('WorkingDirectory'), '/var/lib/carbonado');
  assert.match(unit, /^WantedBy=multi-user\.target$/m);
});

test('the entry command (built) starts, answers the HEALTHCHECK, and drains on SIGTERM', { timeout: 60_000 }, async (t) => {
  const entry = join(REPO_ROOT, 'dist', 'bin', 'carbonado.js');
  if (!existsSync(entry)) {
    if (process.env.CI === 'true') assert.fail('dist/bin/carbonado.js missing: CI runs npm run build before the tests');
    t.skip('needs `npm run build` (dist/bin/carbonado.js)');
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'carbonado-deploy-'));
  try {
    const log = join(work, 'jupyterhub.log');
    await writeFile(log, '');
    const config = join(work, 'carbonado.yaml');
    await writeFile(
      config,
      stringify({
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'info' },
        selfMetrics: { intervalSecs: 0 },
        inputs: { hub_log: { type: 'log_tail', files: [log], stateFile: './data/log_tail.hub_log.json' } },
      }),
    );
    // The container's ENTRYPOINT + CMD with /opt/carbonado → this checkout and our config; cwd = WORKDIR.
    const child = spawn(process.execPath, [entry, '--config', config], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = await waitFor(() => /started http (http:\/\/\S+)/.exec(out)?.[1], `carbonado to start:\n${out}`, 20_000);
      const port = new URL(url!).port;
      const hc = one(finalStage(), 'HEALTHCHECK');
      const argv = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
      assert.equal(argv[0], 'node');
      const health = spawnSync(process.execPath, argv.slice(1).map((a) => a.replace('127.0.0.1:8080', `127.0.0.1:${port}`)), { timeout: 10_000 });
      assert.equal(health.status, 0, `health check failed: ${health.stderr}`);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
      assert.equal(code, 0, out);
      // relative paths resolved under the working directory (the data volume)
      assert.ok(existsSync(join(work, 'data', 'log_tail.hub_log.json')), 'state file under WORKDIR');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
