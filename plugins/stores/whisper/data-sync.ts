import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';

export type DataSyncOutcome = { readonly result: 'synced'; readonly ms: number } | { readonly result: 'failed' | 'unavailable'; readonly message: string };

/**
 * Makes everything written under `dirs` durable with one `syncfs(2)` of each one's filesystem, through
 * coreutils' `sync -f` (Node has no syncfs binding; fsync per file costs one journal commit
 * each, seconds for a few thousand files on a real disk). Where `sync` has no `-f` (busybox,
 * BSD), a plain `sync` of every filesystem does the same job. Runs in a child process: the
 * event loop never waits on the disk.
 */
export async function syncFilesystem(dirs: readonly string[], timeoutMs = 300_000): Promise<DataSyncOutcome> {
  const t0 = performance.now();
  const first = await run(['-f', ...dirs], timeoutMs);
  if (first.ok) return { result: 'synced', ms: performance.now() - t0 };
  if (first.missing) return { result: 'unavailable', message: first.message };
  if (/invalid option|unrecognized option|illegal option|usage/i.test(first.message)) {
    const plain = await run([], timeoutMs);
    if (plain.ok) return { result: 'synced', ms: performance.now() - t0 };
    return { result: plain.missing ? 'unavailable' : 'failed', message: plain.message };
  }
  return { result: 'failed', message: first.message };
}

function run(args: string[], timeoutMs: number): Promise<{ ok: boolean; missing: boolean; message: string }> {
  return new Promise((resolve) => {
    execFile('sync', args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve({ ok: true, missing: false, message: '' });
      const code = (err as NodeJS.ErrnoException).code;
      resolve({ ok: false, missing: code === 'ENOENT', message: `${String(stderr).trim() || err.message}` });
    });
  });
}

/**
 * Mount points strictly below any of `roots` (real paths), from the kernel's mount table. Why:
 * the start-up walk finds the filesystems inside the data directory that exist then; one mounted
 * while carbonado runs would otherwise not be synced before WAL segments are deleted. Empty where
 * there is no /proc (not Linux).
 */
export async function mountsUnder(roots: readonly string[], mountinfo = '/proc/self/mountinfo'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(mountinfo, 'utf8');
  } catch {
    return [];
  }
  const prefixes = roots.map((r) => (r.endsWith(sep) ? r : r + sep));
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options ...; spaces and the like are octal escapes
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (prefixes.some((p) => point.startsWith(p))) out.push(point);
  }
  return out;
}
