/** A kill -9 of a whisper store, simulated in one process: its WAL saved, then put back after a clean stop. */
import { lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The WAL's regular files (a crash keeps them; the clean stop that follows in a test would not). */
export async function walFiles(walDir: string): Promise<Array<readonly [string, Buffer]>> {
  const out: Array<readonly [string, Buffer]> = [];
  for (const f of await readdir(walDir)) {
    if (!f.endsWith('.wal') || !(await lstat(join(walDir, f)).catch(() => undefined))?.isFile()) continue;
    const b = await readFile(join(walDir, f)).catch(() => undefined); // deleted meanwhile by a prune
    if (b) out.push([f, b]);
  }
  return out;
}

/** Stops `c`, removes the series' files and the WAL, puts `saved` back as the WAL: a kill -9 at the moment of the copy. */
export async function crashWith(c: { stop(): Promise<void> }, dir: string, saved: Array<readonly [string, Buffer]>, seriesDir: string): Promise<void> {
  await c.stop();
  await rm(join(dir, seriesDir), { recursive: true, force: true });
  const walDir = join(dir, '.carbonado-wal');
  await rm(walDir, { recursive: true, force: true });
  await mkdir(walDir);
  for (const [f, b] of saved) await writeFile(join(walDir, f), b);
}
