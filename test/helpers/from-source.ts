import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
  const options = compilerOptions();
  for (const top of ['bin', 'cli', 'core', 'plugins']) mirrorTree(join(REPO_ROOT, top), mirror, options);
  return ['--enable-source-maps', join(mirror, 'bin', 'carbonado.js')];
}

function compilerOptions(): Record<string, unknown> {
  const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  return tsconfig.compilerOptions;
}

function mirrorTree(dir: string, mirror: string, compilerOptions: Record<string, unknown>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const src = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'testdata' && !e.name.startsWith('.')) mirrorTree(src, mirror, compilerOptions);
      continue;
    }
    if (!e.name.endsWith('.ts') || e.name.endsWith('.test.ts') || e.name.endsWith('.d.ts')) continue;
    const out = join(mirror, relative(REPO_ROOT, src)).replace(/\.ts$/, '.js');
    const outTime = statSync(out, { throwIfNoEntry: false })?.mtimeMs;
    // a source saved again while it was read is transpiled again
    for (let srcTime = statSync(src).mtimeMs; outTime === undefined || outTime <= srcTime; ) {
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
      writeFileSync(tmp, code);
      renameSync(tmp, out);
      const now = statSync(src).mtimeMs;
      if (now === srcTime) break;
      srcTime = now;
    }
  }
}
