import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** a scratch directory beside the mount (not on it) */
  readonly root: string;
  /** the tmpfs */
  readonly mnt: string;
  /** space is back (or gone): remount at another size */
  resize(size: string): void;
  /** unmounts and removes both */
  remove(): Promise<void>;
}

/**
 * A tmpfs of `size` (e.g. `200k`): a real disk that fills up, for ENOSPC tests. Mounting needs
 * root; undefined when it cannot be mounted (the caller skips with requireHere, or fails in CI).
 */
export async function smallDisk(prefix: string, size: string): Promise<SmallDisk | undefined> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const mnt = join(root, 'mnt');
  await mkdir(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    await rm(root, { recursive: true, force: true });
    return undefined;
  }
  return {
    root,
    mnt,
    resize: (to) => execFileSync('mount', ['-o', `remount,size=${to}`, mnt]),
    async remove() {
      execFileSync('umount', [mnt]);
      await rm(root, { recursive: true, force: true });
    },
  };
}
