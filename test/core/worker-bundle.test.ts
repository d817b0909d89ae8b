// From sources, worker threads run an esbuild bundle of their module instead of loading tsx
// (core/runtime/worker-bundle.ts). The bundle must follow every edit of every file it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startModuleWorker } from '../../core/runtime/start-worker.js';
import { bundledWorker } from '../../core/runtime/worker-bundle.js';
import { REPO_ROOT } from '../helpers/carbonado.js';

async function answer(caller: string): Promise<{ value: string; execArgv: string[] }> {
  const w = startModuleWorker(caller, 'echo-worker');
  try {
    const [msg] = (await once(w, 'message')) as [{ value: string; execArgv: string[] }];
    return msg;
  } finally {
    await w.terminate();
  }
}

/** sets a file's mtime well in the past: the bundler does not trust files saved during its build */
async function settle(path: string, secondsAgo: number): Promise<void> {
  const t = Date.now() / 1000 - secondsAgo;
  await utimes(path, t, t);
}

test('a worker from sources runs a bundle without tsx, rebuilt when a file it imports changes, reused while none does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-worker-bundle-'));
  const entry = join(dir, 'echo-worker.ts');
  const dep = join(dir, 'value.ts');
  // the caller is a module beside the worker, as plugins call it
  const caller = pathToFileURL(join(dir, 'caller.ts')).href;
  let firstBundle: string | undefined;
  try {
    await writeFile(entry, "import { parentPort } from 'node:worker_threads';\nimport { value } from './value.js';\nconst v: string = value;\nparentPort!.postMessage({ value: v, execArgv: process.execArgv });\n");
    await writeFile(dep, "export const value: string = 'one';\n");
    await settle(entry, 60);
    await settle(dep, 60);

    const first = await answer(caller);
    assert.equal(first.value, 'one');
    assert.ok(!first.execArgv.some((a) => a.includes('tsx')), `the worker loaded tsx: ${first.execArgv.join(' ')}`);
    const bundle = (firstBundle = bundledWorker(entry)!);
    assert.equal(bundledWorker(entry), bundle, 'unchanged sources reuse the bundle');

    // an edit of an imported file, same size, only the mtime telling it apart
    await writeFile(dep, "export const value: string = 'two';\n");
    await settle(dep, 30);
    assert.equal((await answer(caller)).value, 'two');
    assert.notEqual(bundledWorker(entry), bundle);

    // a file saved a moment ago is bundled as it is now, every time, until it has settled: a
    // second save within the filesystem's timestamp granularity (same size, same mtime) is seen
    const now = Math.floor(Date.now() / 1000); // whole seconds: set again exactly below
    await writeFile(dep, "export const value: string = 'fresh AAA';\n");
    await utimes(dep, now, now);
    assert.equal((await answer(caller)).value, 'fresh AAA');
    await writeFile(dep, "export const value: string = 'fresh BBB';\n");
    await utimes(dep, now, now);
    assert.equal((await answer(caller)).value, 'fresh BBB');

    // a source esbuild cannot read: no bundle, and the worker registers tsx, which reports it
    const broken = join(dir, 'broken-worker.ts');
    await writeFile(broken, 'export const = ;\n');
    assert.equal(bundledWorker(broken), undefined);
    const w = startModuleWorker(caller, 'broken-worker');
    const [err] = (await once(w, 'error')) as [Error];
    assert.match(String(err), /broken-worker|Expected|Transform failed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (firstBundle) await removeBundles(firstBundle);
  }
});

test('flags a worker may not be given (V8\'s) do not stop a worker from sources', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-worker-flags-'));
  let bundle: string | undefined;
  try {
    await writeFile(join(dir, 'echo-worker.ts'), "import { parentPort } from 'node:worker_threads';\nparentPort!.postMessage({ value: 'up', execArgv: process.execArgv });\n");
    const startWorker = pathToFileURL(join(REPO_ROOT, 'core', 'runtime', 'start-worker.ts')).href;
    const caller = pathToFileURL(join(dir, 'caller.ts')).href;
    await writeFile(
      join(dir, 'main.mts'),
      `import { startModuleWorker } from ${JSON.stringify(startWorker)};\n` +
        `const w = startModuleWorker(${JSON.stringify(caller)}, 'echo-worker');\n` +
        "w.on('message', (m) => { console.log(JSON.stringify(m)); void w.terminate(); });\n",
    );
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=8', '--import', 'tsx', join(dir, 'main.mts')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim()) as { value: string; execArgv: string[] };
    assert.equal(got.value, 'up');
    assert.ok(!got.execArgv.some((a) => a.includes('tsx') || a === '--expose-gc'), got.execArgv.join(' '));
    bundle = bundledWorker(join(dir, 'echo-worker.ts'));
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (bundle) await removeBundles(bundle);
  }
});

/** Removes what the cache holds for one entry: `<name>-<hash of its path>[-<hash of the bundle>.mjs|.json]`. */
async function removeBundles(bundle: string): Promise<void> {
  const key = basename(bundle).replace(/-[0-9a-f]{12}\.mjs$/, '');
  const cache = dirname(bundle);
  for (const f of await readdir(cache)) if (f.startsWith(key)) await rm(join(cache, f), { force: true });
}
