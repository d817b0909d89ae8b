import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve, sep } from 'node:path';

/**
 * Running from sources (tsx: tests, `npm run dev`), a worker thread that registers tsx costs about
 * a third of a CPU-second before its first message: tsx's loader thread, then every module
 * resolved and transformed through it. A store with three threads took 1.5 CPU-seconds to start
 * instead of 0.3, and the test suite, which starts hundreds of them, was bound by that. So
 * the worker's module graph is bundled into one plain JavaScript file with esbuild (which tsx
 * itself uses), kept under `node_modules/.cache/carbonado-workers`, and rebuilt whenever one of
 * the files that went into it changes (size or mtime). Built code (`npm start`) never comes here.
 *
 * Returns the bundle's path, or undefined when it cannot be had (no esbuild, a node_modules this
 * user cannot write, a source esbuild cannot read): the caller then registers tsx in the worker,
 * which reports a broken source as it always did.
 */
export function bundledWorker(entry: string): string | undefined {
  try {
    return makeBundle(entry);
  } catch {
    return undefined;
  }
}

function makeBundle(entry: string): string {
  const require = createRequire(import.meta.url);
  const esbuildPath = require.resolve('esbuild'); // not installed: thrown, and no bundle
  const modules = esbuildPath.slice(0, esbuildPath.lastIndexOf(`${sep}node_modules${sep}`) + `${sep}node_modules`.length);
  // inside node_modules, so that the bundle's own imports of packages resolve from there
  const cache = join(modules, '.cache', 'carbonado-workers');
  const key = `${basename(entry, '.ts')}-${createHash('sha256').update(entry).digest('hex').slice(0, 12)}`;
  const indexPath = join(cache, `${key}.json`);
  const fresh = upToDate(indexPath);
  if (fresh !== undefined) return fresh;

  const esbuild = require(esbuildPath) as typeof import('esbuild');
  const root = dirname(modules);
  const startedAt = Date.now();
  const out = esbuild.buildSync({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const text = out.outputFiles[0]!.contents;
  const bundle = join(cache, `${key}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.mjs`);
  const inputs = Object.keys(out.metafile.inputs).map((p) => {
    const path = resolve(root, p);
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  });
  mkdirSync(cache, { recursive: true });
  // several test processes may build the same worker at once: each writes whole files under
  // names of its own and renames them into place
  writeWhole(bundle, text);
  // a file saved while esbuild read it may be in the bundle as it was before: not recorded as
  // up to date, so the next start builds again
  if (inputs.every((i) => i.mtimeMs < startedAt - 2000)) writeWhole(indexPath, JSON.stringify({ bundle, inputs }));
  removeOldBundles(cache, key, bundle);
  return bundle;
}

interface BundleIndex {
  bundle: string;
  inputs: Array<{ path: string; size: number; mtimeMs: number }>;
}

/** the bundle recorded in the index, if none of its inputs changed since */
function upToDate(indexPath: string): string | undefined {
  try {
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as BundleIndex;
    for (const i of index.inputs) {
      const st = statSync(i.path);
      if (st.size !== i.size || st.mtimeMs !== i.mtimeMs) return undefined;
    }
    statSync(index.bundle);
    return index.bundle;
  } catch {
    return undefined; // no index yet, an input gone, or the bundle removed
  }
}

function writeWhole(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Bundles of earlier sources, left by each edit. Only old ones: a process that read the index a
 * moment ago may be about to start a thread on the bundle it named.
 */
function removeOldBundles(cache: string, key: string, current: string): void {
  const cutoff = Date.now() - 10 * 60_000;
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (!name.startsWith(`${key}-`) || path === current) continue;
    try {
      if (statSync(path).mtimeMs < cutoff) unlinkSync(path);
    } catch {
      // removed by another process meanwhile
    }
  }
}
