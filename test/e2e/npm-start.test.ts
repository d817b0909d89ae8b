/**
 * `npm start` as the README tells users to run it: npm runs the start script through `sh -c`,
 * so a SIGTERM sent to npm alone (`kill <pid>`, `docker stop` on an `npm start` image) reaches
 * carbonado only if the script execs node, and Ctrl-C reaches carbonado twice (from the terminal
 * and forwarded by npm), which must still drain rather than count as "stop waiting".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT, portOf, testConfig, waitFor } from '../helpers/carbonado.js';
import { requireHere } from '../helpers/peers.js';
import { fetchWhisper, readHeader } from '../../plugins/shared/whisper-format/index.js';

const ENTRY = join(REPO_ROOT, 'dist', 'bin', 'carbonado.js');
const BUILT_RUN = join(REPO_ROOT, 'dist', 'cli', 'commands', 'run.js');

/** dist/ built from the current run command (CI builds before the tests; elsewhere it may be missing or stale) */
function built(): boolean {
  return existsSync(ENTRY) && existsSync(BUILT_RUN) && statSync(BUILT_RUN).mtimeMs >= statSync(join(REPO_ROOT, 'cli', 'commands', 'run.ts')).mtimeMs;
}

/** npm start in its own process group (as a shell job is), on a config of free loopback ports */
async function npmStart(dir: string) {
  const dataDir = join(dir, 'whisper');
  const configFile = join(dir, 'carbonado.yaml');
  writeFileSync(
    configFile,
    stringify(
      testConfig({
        log: { level: 'info' },
        inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
        stores: { main: { type: 'whisper', dataDir } },
      }),
    ),
  );
  // --ignore-scripts: the start script itself runs, its prestart (the build) does not
  const child = spawn('npm', ['start', '--ignore-scripts', '--silent'], {
    cwd: REPO_ROOT,
    env: { ...process.env, CARBONADO_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => /started inputs\.carbon \(/.test(out) && /started http http:\/\//.test(out), `npm start to start carbonado:\n${out}`, 60_000);
  const carbon = portOf(/started inputs\.carbon \(carbon_line\)((?: \S+)*)/.exec(out)![1]!.trim().split(' '), 'tcp');
  const httpUrl = /started http (http:\/\/\S+)/.exec(out)![1]!;
  return { child, exited, output: () => out, carbon, httpUrl, dataDir };
}

async function sendLine(port: number, line: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(line));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

async function httpAnswers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

for (const how of ['SIGTERM to npm alone', 'SIGINT to the process group (Ctrl-C)'] as const) {
  test(`npm start: ${how} drains carbonado, which exits with npm`, { timeout: 90_000 }, async (t) => {
    if (!requireHere(t, built(), '`npm run build` (dist/ missing or older than cli/commands/run.ts)')) return;
    const dir = mkdtempSync(join(tmpdir(), 'carbonado-npm-start-'));
    const p = await npmStart(dir);
    try {
      const now = Math.floor(Date.now() / 1000);
      await sendLine(p.carbon.port, `npm.start.drained 7 ${now}\n`);
      await waitFor(async () => ((await (await fetch(`${p.httpUrl}/stats`)).json()) as { instances: Record<string, { received: number }> }).instances['stores.main']!.received === 1, 'the store to accept the point');
      if (how === 'SIGTERM to npm alone') p.child.kill('SIGTERM');
      else process.kill(-p.child.pid!, 'SIGINT');
      const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
      assert.notEqual(code, 'hung', `npm did not exit:\n${p.output()}`);
      const signal = how === 'SIGTERM to npm alone' ? 'SIGTERM' : 'SIGINT';
      assert.match(p.output(), new RegExp(`${signal}: draining`), p.output());
      assert.doesNotMatch(p.output(), /exiting without waiting for the drain/, p.output());
      assert.match(p.output(), /stopped stores\.main /, p.output());
      // carbonado itself is gone (not left running under init with its ports held)
      await waitFor(async () => !(await httpAnswers(p.httpUrl)), 'carbonado to close its HTTP port', 10_000, 100);
      // and the drain wrote the point into its Whisper file
      const file = join(p.dataDir, 'npm', 'start', 'drained.wsp');
      const fh = await open(file, 'r');
      try {
        const got = (await fetchWhisper(fh, await readHeader(fh, file), now - 60, now, now + 1))!;
        assert.ok(Array.from(got.values).includes(7), `the point on disk after the drain: ${Array.from(got.values)}`);
      } finally {
        await fh.close();
      }
    } finally {
      try {
        process.kill(-p.child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
