import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Runtime } from '../../core/runtime/runtime.js';
import type { PluginManifest } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { carbonadoFromSource } from './from-source.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Fills in what every test config wants: loopback HTTP on a free port, quiet logs, no self-metrics. */
export function testConfig(config: Record<string, unknown>): Record<string, unknown> {
  return {
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    selfMetrics: { intervalSecs: 0 },
    ...config,
  };
}

export interface InProcess {
  readonly runtime: Runtime;
  readonly httpUrl: string;
  listening(id: string): string[];
  /** GET /stats, read directly */
  stats(): ReturnType<Runtime['statsSnapshot']>;
  stop(): Promise<void>;
}

/** Starts a runtime in this process. Ports in the config should be 0. */
export async function startInProcess(config: Record<string, unknown>, opts: { plugins?: readonly PluginManifest[]; clock?: () => number } = {}): Promise<InProcess> {
  const runtime = await Runtime.create(testConfig(config), {
    plugins: opts.plugins ?? builtinPlugins,
    file: 'test-config',
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await runtime.start();
  return {
    runtime,
    httpUrl: runtime.httpUrl(),
    listening: (id) => runtime.listening(id),
    stats: () => runtime.statsSnapshot(),
    stop: () => runtime.stop(),
  };
}

/** host and port of the first `proto://host:port` an instance listens on. */
export function portOf(urls: string[], proto: 'tcp' | 'udp'): { host: string; port: number } {
  const u = urls.find((x) => x.startsWith(`${proto}://`));
  if (!u) throw new Error(`no ${proto} address in ${JSON.stringify(urls)}`);
  const m = /^\w+:\/\/\[?([^\]]*?)\]?:(\d+)$/.exec(u)!;
  return { host: m[1]!, port: Number(m[2]) };
}

export interface Spawned {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly httpUrl: string;
  listening(id: string): string[];
  kill(signal?: NodeJS.Signals): void;
  readonly exited: Promise<number | null>;
  output(): string;
  readonly configFile: string;
}

/**
 * Runs carbonado from its sources (carbonadoFromSource) or from dist/ with `--config <tmp yaml>`, and waits until every instance
 * has logged its start line. `config` gets testConfig()'s defaults (log level raised to info, as
 * the start lines are how ports are discovered).
 */
export async function spawnCarbonado(config: Record<string, unknown>, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; configFile?: string; nodeArgs?: string[]; fromBuild?: boolean } = {}): Promise<Spawned> {
  // the start lines (info) are how ports are discovered, so the level is never above info
  const cfg = testConfig({ ...config, log: { ...((config.log as object) ?? {}), level: (config.log as { level?: string } | undefined)?.level === 'debug' ? 'debug' : 'info' } });
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-spawn-'));
  const configFile = opts.configFile ?? join(dir, 'carbonado.yaml');
  writeFileSync(configFile, stringify(cfg));
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...(opts.fromBuild ? [join(REPO_ROOT, 'dist', 'bin', 'carbonado.js')] : [...carbonadoFromSource()]), '--config', configFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ids: string[] = [];
  for (const section of ['inputs', 'aggregators', 'stores', 'outputs']) {
    for (const name of Object.keys((cfg[section] as object | undefined) ?? {})) ids.push(`${section}.${name}`);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const started = () => ids.every((id) => out.includes(`started ${id} (`)) && /started http http:\/\//.test(out);
  while (!started()) {
    if (child.exitCode !== null) throw new Error(`carbonado exited with ${child.exitCode} before starting:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`carbonado did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const httpUrl = /started http (http:\/\/\S+)/.exec(out)![1]!;
  return {
    pid: child.pid!,
    child,
    httpUrl,
    configFile,
    listening(id) {
      const m = new RegExp(`started ${id.replace(/\./g, '\\.')} \\([a-z0-9_]+\\)((?: \\S+)*)`).exec(out);
      return m ? m[1]!.trim().split(' ').filter(Boolean) : [];
    },
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
    exited,
    output: () => out,
  };
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
