/** Shared by graphite_render's HTTP tests: the fixture tree, a carbonado serving it, graphite-web, requests. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInProcess, waitFor, type InProcess } from '../helpers/carbonado.js';
import { importWhisperTree } from '../../cli/commands/import-whisper.js';
import { DEBIAN_PYTHON } from '../helpers/peers.js';
import { builtinPlugins } from '../../plugins/index.js';
import { fixtureStorePlugin } from './fixture-store.js';
import graphiteRender from '../../plugins/outputs/graphite_render/index.js';
import { NOW, type Case } from './cases.js';
import { freePort } from '../helpers/ports.js';

export const HERE = dirname(fileURLToPath(import.meta.url));

/** Builds the whisper fixture tree with Debian's python3-whisper into a fresh temp dir. */
export function makeFixture(kind: 'plain' | 'tagged' = 'plain'): string {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-gr-fixture-'));
  execFileSync(DEBIAN_PYTHON, [join(HERE, 'make-fixture.py'), dir, ...(kind === 'tagged' ? ['tagged'] : [])], { stdio: 'ignore' });
  return dir;
}

/** Which store serves the tree: the product's whisper store, or the test-only reader (fixture-store.ts). */
export type StoreKind = 'whisper' | 'fixture' | 'sqlite';

export const hasWhisperStore = builtinPlugins.some((p) => p.name === 'whisper' && p.kind === 'store');

/** carbonado with graphite_render over the fixture tree; the clock is pinned to NOW. */
export async function startCarbonado(dir: string, renderOptions: Record<string, unknown> = {}, store: StoreKind = hasWhisperStore ? 'whisper' : 'fixture'): Promise<InProcess> {
  // a whisper store takes its data directory for itself (dir-lock.ts), and tests run several
  // carbonados over one fixture at once: each gets its own copy
  const copy = store === 'whisper' ? mkdtempSync(join(tmpdir(), 'carbonado-gr-copy-')) : undefined;
  if (copy) cpSync(dir, copy, { recursive: true });
  const stores = store === 'whisper'
    ? { main: { type: 'whisper', dataDir: copy!, durability: 'none' } }
    : store === 'sqlite'
      ? { main: { type: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'carbonado-gr-sqlite-')), 'carbonado.db') } }
      : { fixture: { type: 'test_whisper_reader', dir } };
  const app = await startInProcess(
    { stores, query: { store: Object.keys(stores)[0] }, outputs: { graphite: { type: 'graphite_render', ...renderOptions } } },
    { plugins: [...builtinPlugins.filter((p) => p.name !== 'graphite_render'), graphiteRender, fixtureStorePlugin], clock: () => NOW },
  );
  if (store === 'sqlite') {
    // the same tree, moved into the sqlite store the way an operator would (import-whisper)
    await importWhisperTree(app.runtime, 'stores.main', dir);
    await waitFor(() => (app.stats().instances['stores.main']!.gauges.queue_points ?? 0) === 0, 'sqlite import to commit', 60_000);
  }
  if (!copy) return app;
  return {
    ...app,
    listening: (id) => app.listening(id),
    stats: () => app.stats(),
    stop: async () => {
      await app.stop();
      rmSync(copy, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  type: string;
  /** text, or for application/pickle the base64 of the bytes */
  body: string;
}

export async function send(base: string, c: Pick<Case, 'path' | 'method' | 'params'>): Promise<Answer> {
  const qs = new URLSearchParams(c.params as Array<[string, string]>).toString();
  const res = c.method === 'POST'
    ? await fetch(`${base}${c.path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: qs })
    : await fetch(`${base}${c.path}?${qs}`);
  const type = res.headers.get('content-type') ?? '';
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type, body: type.includes('pickle') ? buf.toString('base64') : buf.toString('utf8') };
}

export const hasGraphiteWeb = hasPythonModuleCached('graphite.render.attime') && hasPythonModuleCached('gunicorn');

function hasPythonModuleCached(mod: string): boolean {
  return existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore', env: { ...process.env, DJANGO_SETTINGS_MODULE: '' } }).status === 0;
}

/**
 * Starts Debian's graphite-web 1.1.8 under gunicorn (one worker) with gw_settings.py: serving
 * `whisperDir`, and/or querying `cluster` (host:port) as a cluster member. Stopped by its PID.
 */
export async function startGraphiteWeb(whisperDir: string, opts: { cluster?: string; usePost?: boolean; tagdb?: boolean; scratch?: string } = {}): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  // a scratch dir given again keeps its migrated database: `django migrate` is most of the start time
  const scratch = opts.scratch ?? mkdtempSync(join(tmpdir(), 'carbonado-gr-gw-'));
  mkdirSync(join(scratch, 'log'), { recursive: true });
  const env = {
    ...process.env,
    PYTHONPATH: HERE, GRAPHITE_SETTINGS_MODULE: 'gw_settings', DJANGO_SETTINGS_MODULE: 'graphite.settings',
    GW_STORAGE_DIR: scratch, GW_WHISPER_DIR: whisperDir, GW_CLUSTER: opts.cluster ?? '', GW_USE_POST: opts.usePost ? '1' : '0', GW_TAGDB: opts.tagdb ? '1' : '0',
  };
  if (!existsSync(join(scratch, 'graphite.db'))) execFileSync(DEBIAN_PYTHON, ['-m', 'django', 'migrate', '--noinput'], { env, stdio: 'ignore' });
  const child = spawn(DEBIAN_PYTHON, ['-m', 'gunicorn', '--bind', `127.0.0.1:${port}`, '--workers', '1', '--timeout', '120',
    '--access-logfile', '/dev/null', '--error-logfile', join(scratch, 'log', 'gunicorn.log'), 'graphite.wsgi:application'], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  if (!opts.scratch) child.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  for (let i = 0; i < 240; i++) {
    try {
      const r = await fetch(`${url}/version`);
      if (r.ok) return { url, stop };
    } catch { /* not up yet */ }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`graphite-web did not start: ${readFileSync(join(scratch, 'log', 'gunicorn.log'), 'utf8').slice(-2000)}`);
}

/** Decodes pickles (base64) with Debian's Python into JSON-safe values (NaN/inf as strings, tuples as lists). */
export function unpickleAll(b64: string[]): unknown[] {
  const script = [
    'import sys, json, pickle, base64, math',
    'def fix(x):',
    '  if isinstance(x, float) and (math.isnan(x) or math.isinf(x)): return repr(x)',
    '  if isinstance(x, (list, tuple)): return [fix(i) for i in x]',
    '  if isinstance(x, dict): return {k: fix(v) for k, v in x.items()}',
    '  return x',
    'print(json.dumps([fix(pickle.loads(base64.b64decode(s))) for s in json.load(sys.stdin)]))',
  ].join('\n');
  const r = spawnSync(DEBIAN_PYTHON, ['-c', script], { input: JSON.stringify(b64) });
  if (r.status !== 0) throw new Error(`unpickle failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as unknown[];
}
