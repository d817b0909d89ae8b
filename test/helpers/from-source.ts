import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The node arguments that run carbonado's CLI as the sources are now, for tests that spawn it.
 *
 * `node --import tsx bin/carbonado.ts` spends about a CPU-second on tsx before carbonado's first
 * line (its loader thread, then each module resolved and transformed through it), and the suite
 * spawns carbonado some hundred times on two cores. So the sources are transpiled file by file,
 * as tsx would (esbuild, the same options), into a mirror of the tree under
 * `node_modules/.cache/carbonado-src`, each file again whenever its source is newer; the
 * processes run plain JavaScript from there. The mirror keeps the tree's layout, so modules that
 * find files beside them (worker threads, the package root) find them as in `dist/`. Not `dist/`
 * itself: a test must run the sources as they are, built or not.
 */
export function carbonadoFromSource(): string[] {
  const mirror = join(REPO_ROOT, 'node_modules', '.cache', 'carbonado-src');
  mirrorSources(REPO_ROOT, mirror, ['bin', 'cli', 'core', 'plugins']);
  return ['--enable-source-maps', join(mirror, 'bin', 'carbonado.js')];
}

/** Brings `mirror` up to date with the `.ts` sources (not tests) under `root`'s `tops`. */
export function mirrorSources(root: string, mirror: string, tops: readonly string[]): void {
  const tsconfig = join(root, 'tsconfig.json');
  const options = (JSON.parse(readFileSync(tsconfig, 'utf8')) as { compilerOptions: Record<string, unknown> }).compilerOptions;
  // a change of compiler options makes every copy older than what it would now be
  const optionsTime = statSync(tsconfig).mtimeMs;
  for (const top of tops) mirrorTree(root, join(root, top), mirror, options, optionsTime);
}

function mirrorTree(root: string, dir: string, mirror: string, compilerOptions: Record<string, unknown>, optionsTime: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const src = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'testdata' && !e.name.startsWith('.')) mirrorTree(root, src, mirror, compilerOptions, optionsTime);
      continue;
    }
    if (!e.name.endsWith('.ts') || e.name.endsWith('.test.ts') || e.name.endsWith('.d.ts')) continue;
    const out = join(mirror, relative(root, src)).replace(/\.ts$/, '.js');
    // each copy ends with the stat of the source it was made from: a source with any other
    // (saved since, or put back with an older mtime by cp -p, rsync -t or tar) is copied again
    const st = statSync(src);
    const stamp = `\n// carbonado-src ${st.mtimeMs} ${st.size} ${optionsTime}\n`;
    if (endsWith(out, stamp)) continue;
    // a file saved a moment ago may be saved again within the same timestamp, at the same size:
    // its copy gets no stamp, so it is made again until the file has settled
    const settled = st.mtimeMs < Date.now() - 2000 && optionsTime < Date.now() - 2000;
    const { code } = transformSync(readFileSync(src, 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: src,
      tsconfigRaw: { compilerOptions },
    });
    mkdirSync(dirname(out), { recursive: true });
    // several test processes may mirror at once: whole files under names of their own, renamed
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, settled ? code + stamp : code);
    renameSync(tmp, out);
  }
}

function endsWith(path: string, tail: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    const want = Buffer.from(tail);
    if (size < want.length) return false;
    const got = Buffer.alloc(want.length);
    readSync(fd, got, 0, want.length, size - want.length);
    return got.equals(want);
  } finally {
    closeSync(fd);
  }
}
