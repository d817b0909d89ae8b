// Shared helpers for carbonado's benchmarks: free ports, spawning carbonado and the shared
// bench tools, reading /stats, sampling CPU and RSS of a PID.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_BENCH = process.env.CARBONADO_SHARED_BENCH ?? join(REPO, '..', 'shared', 'bench');

export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a node script to completion and returns its last stdout line parsed as JSON. */
export function runJson(script, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', opts.quiet === false ? 'inherit' : 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr?.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} exited ${code} without JSON: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

/** Starts carbonado (compiled if dist/ exists, else through tsx) on a YAML/JSON config object. */
export async function startCarbonado(config, { timeoutMs = 30_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-bench-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ log: { level: 'info' }, selfMetrics: { intervalSecs: 0 }, ...config }));
  // from the sources (tsx compiles once at start; run time is the same as the build's), so a
  // stale dist/ can never be what is measured
  const args = ['--import', 'tsx', join(REPO, 'bin', 'carbonado.ts'), '--config', file];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + timeoutMs;
  const want = ['inputs', 'stores', 'aggregators', 'outputs'].flatMap((s) => Object.keys(config[s] ?? {}).map((n) => `started ${s}.${n} (`));
  while (!want.every((w) => log.includes(w)) || !log.includes('started http')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`carbonado did not start:\n${log}`);
    }
    await sleep(50);
  }
  const httpUrl = /started http (http:\/\/\S+)/.exec(log)[1];
  return {
    pid: child.pid,
    httpUrl,
    log: () => log,
    async stats() {
      return (await fetch(`${httpUrl}/stats`)).json();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    },
  };
}

/** CPU seconds (user+system) and RSS bytes of a PID from /proc. */
export function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(stat[11]) + Number(stat[12]);
    const rss = Number(stat[21]) * 4096;
    return { cpuSecs: ticks / 100, rss };
  } catch {
    return { cpuSecs: 0, rss: 0 };
  }
}
