import { execFile } from 'node:child_process';

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
