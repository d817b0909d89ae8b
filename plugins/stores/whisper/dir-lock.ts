import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One store per directory. A second store on the same data directory (another carbonado, or a
 * second instance in one config) would replay the first one's live WAL, empty its staging
 * directory under its creates and, when stopped, delete WAL segments the first still needs.
 *
 * The lock is a file holding `pid boot-id start-time`. A lock is stale when the machine has
 * rebooted since (boot id), the process is gone, or its pid now belongs to a process started at
 * another time (pid reuse, as with pid 1 in a restarted container). It protects against
 * processes of one host and one pid namespace: two containers with their own pid namespaces, or
 * two hosts on a network filesystem, each see the other's lock as stale. carbon-cache has no such
 * lock (it relies on its pidfile and the init system).
 */
export const LOCK_FILE = '.carbonado-lock';

interface Holder {
  pid: number;
  boot: string;
  start: string;
}

export class DirectoryInUse extends Error {}

/** Takes the lock of `dir` (which must exist); returns the function that releases it. */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, boot: await bootId(), start: await startTime(process.pid) };
  const text = `${me.pid} ${me.boot || '-'} ${me.start || '-'}\n`;
  // written whole under a name of our own, then linked to the lock's name: link() fails when the
  // lock exists, and nobody ever sees a lock file half written
  const mine = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const release = async (): Promise<void> => {
    // only our own lock: an operator may have deleted it and another process taken it since
    if ((await readFile(path, 'utf8').catch(() => '')) === text) await unlink(path).catch(() => undefined);
  };
  try {
    await writeFile(mine, text);
  } catch (err) {
    // a data disk 100 % full must not stop the store that is to drain onto it after a crash
    if (isNoSpace(err)) throw new LockUnavailable(`cannot write the lock file ${path}: ${(err as Error).message}`);
    throw err;
  }
  let hardLinks = true;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        if (hardLinks) await link(mine, path);
        else await writeFile(path, text, { flag: 'wx' });
        return release;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (hardLinks && (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')) {
          // a filesystem without hard links (vfat, some SMB and FUSE mounts): an exclusive create,
          // whose lock can be seen half written for a moment (it is read as held)
          hardLinks = false;
          attempt--;
          continue;
        }
        if (isNoSpace(err)) throw new LockUnavailable(`cannot write the lock file ${path}: ${(err as Error).message}`);
        if (code !== 'EEXIST') throw err;
      }
      const seen = await readLock(path);
      if (seen === undefined) continue; // released meanwhile
      // an exclusive create (no hard links) is visible before its text
      if (seen === '') throw inUse(dir, path, 'another process (the lock file is empty: being written, or left by a crash on a filesystem without hard links)');
      const holder = parse(seen);
      if (holder && (await isRunning(holder, me))) throw inUse(dir, path, `process ${holder.pid}`);
      // left by a process that is gone (kill -9, power loss). Moved aside rather than deleted, and
      // checked after the move: another process may have taken it over between our read and now
      const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if ((await readFile(aside, 'utf8').catch(() => undefined)) !== seen) {
        await link(aside, path).catch(() => undefined); // a fresh lock: give it back
      }
      await unlink(aside).catch(() => undefined);
    }
    throw inUse(dir, path, 'another process (the lock file kept changing)');
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

function inUse(dir: string, path: string, who: string): DirectoryInUse {
  return new DirectoryInUse(
    `${dir} is in use by ${who} (lock file ${path}): two stores on one directory would delete each other's write-ahead log. ` +
      'Give each store its own dataDir (and walDir), stop the other process, or delete the lock file if no carbonado uses the directory',
  );
}

/** The lock cannot be written (a full disk): the caller decides whether to go on without it. */
export class LockUnavailable extends Error {}

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The lock's text; undefined when it is gone. A lock we cannot read is someone's: not stale. */
async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DirectoryInUse(`cannot read the lock file ${path}: ${(err as Error).message}`);
  }
}

function parse(text: string): Holder | undefined {
  const [pid, boot, start] = text.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return { pid: n, boot: boot === '-' || boot === undefined ? '' : boot, start: start === '-' || start === undefined ? '' : start };
}

async function isRunning(holder: Holder, me: Holder): Promise<boolean> {
  if (holder.boot && me.boot && holder.boot !== me.boot) return false;
  if (holder.pid !== me.pid) {
    try {
      process.kill(holder.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
    }
  }
  if (!holder.start) return true;
  const now = await startTime(holder.pid);
  return now === '' || now === holder.start;
}

/** The kernel's id of this boot (Linux); '' elsewhere. */
async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

/** When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); '' if unknown. */
async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // the command name (field 2) is in parentheses and may hold spaces: count from the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest.length > 19 ? rest[19]! : '';
}
