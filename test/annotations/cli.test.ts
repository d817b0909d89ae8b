// `carbonado event` as a deploy script runs it (a real child process), against an in-process
// carbonado: success, and each way it fails with a clear message and exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startInProcess } from '../helpers/carbonado.js';
import { carbonadoFromSource } from '../helpers/from-source.js';
import { refusingPort } from '../helpers/ports.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...carbonadoFromSource(), 'event', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CARBONADO_URL: '', CARBONADO_EVENTS_TOKEN: '', ...env },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the event command: usage errors exit 2, an unreachable server 1, a refused token 1 with a hint', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crb-events-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = await startInProcess({
    stores: { events: { type: 'sqlite_events', path: join(dir, 'events.db') } },
    outputs: { annotations: { type: 'grafana_annotations', token: 'deploy-token' } },
  });
  t.after(() => c.stop());
  const down = await refusingPort();
  t.after(() => down.release());
  const port = down.port;

  const auth = { CARBONADO_URL: c.httpUrl, CARBONADO_EVENTS_TOKEN: 'deploy-token' };
  const [usage, badWhen, unreachable, refused, viaEnv, fromStdin, fraction] = await Promise.all([
    cli([]),
    cli(['x', '--when', 'someday']),
    cli(['x', '--url', `http://127.0.0.1:${port}`, '--timeout-ms', '5000']),
    cli(['x', '--url', c.httpUrl]),
    cli(['Deployed', 'v2.3', '--tags', 'deploy hub', '--when', '-5min'], auth),
    cli(['Changelog', '--data', '-', '--when', '2023-11-14T22:15:00Z'], auth, 'line 1\nline 2\n\n'),
    cli(['Fraction', '--when', '1700000000.75'], auth),
  ]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing WHAT/);
  assert.equal(badWhen.code, 2);
  assert.match(badWhen.stderr, /--when must be/);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/events/: (ECONNREFUSED|no answer)`));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /answered 401: a bearer token is required.*--token/);
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const e = JSON.parse(viaEnv.stdout) as { what: string; tags: string[]; when: number };
  assert.equal(e.what, 'Deployed v2.3');
  assert.deepEqual(e.tags, ['deploy', 'hub']);
  assert.ok(Math.abs(e.when - (Date.now() / 1000 - 300)) < 60);
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  // the two successful posts run concurrently, so the ids may come in either order
  const { id: _id, ...stored } = JSON.parse(fromStdin.stdout) as Record<string, unknown>;
  // without stdin's final newline, as --data "$(git log -1)" would give it
  assert.deepEqual(stored, { when: 1700000100, what: 'Changelog', data: 'line 1\nline 2', tags: [] });
  // Unix seconds with a fraction (date +%s.%N) are taken as the events API takes them (whole seconds kept)
  assert.equal(fraction.code, 0, fraction.stderr);
  assert.equal((JSON.parse(fraction.stdout) as { when: number }).when, 1700000000);
});
