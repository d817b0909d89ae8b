// From sources, worker threads run an esbuild bundle of their module instead of loading tsx
// (core/runtime/worker-bundle.ts). The bundle must follow every edit of every file it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startModuleWorker } from '../../core/runtime/start-worker.js';
import { bundledWorker } from '../../core/runtime/worker-bundle.js';

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
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (firstBundle) {
      // this entry's bundles and index: `<name>-<hash of its path>[-<hash of the bundle>.mjs|.json]`
      const key = basename(firstBundle).replace(/-[0-9a-f]{12}\.mjs$/, '');
      const cache = dirname(firstBundle);
      for (const f of await readdir(cache)) if (f.startsWith(key)) await rm(join(cache, f), { force: true });
    }
  }
});
