import { createHash, randomBytes } from 'node:crypto';
import { link, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isNoHardLinks } from './hard-links.js';

/**
 * One store per directory. A second store on the same data directory (another carbonado, or a
 * second instance in one config) would replay the first one's live WAL, empty its staging
 * directory under its creates and, when stopped, delete WAL segments the first still needs.
 * The same lock serves one file (`lockFile`: the sqlite store's database).
 *
 * The lock is a file holding `pid boot-id start-time nonce role dev:ino` (locks of earlier
 * versions hold the first three; both are read). A lock is stale when the machine has
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
  /** what the holder uses the directory for ('' in locks of older versions) */
  role?: string;
  /** `dev:ino` of the directory it locked: a lock found elsewhere is a copy (cp -a, rsync) */
  dir?: string;
}

/**
 * A store's data directory, its write-ahead log's, or a directory its data directory reaches
 * through a symlink (a disk linked into the tree): that one holds the store's series as much as
 * the data directory does.
 */
export type LockRole = 'data' | 'wal' | 'linked';

export class DirectoryInUse extends Error {}

/** Takes the lock of `dir` (which must exist); returns the function that releases it. */
export function lockDirectory(dir: string, opts: { role?: LockRole; takeOverMs?: number } = {}): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  return takeLock(path, opts, (who) =>
    new DirectoryInUse(
      `${dir} is in use by ${who} (lock file ${path}): two stores on one directory would delete each other's write-ahead log. ` +
        'Give each store its own dataDir (and walDir), stop the other process, or delete the lock file if no carbonado uses the directory',
    ),
  );
}

/** what a lock file is named beside the database file it locks */
export const FILE_LOCK_SUFFIX = '.carbonado-lock';

/**
 * Takes the lock of one file (a database a store holds for itself: `<file>.carbonado-lock` beside
 * it, by the path given, so resolve symlinks first); returns the function that releases it.
 */
export function lockFile(file: string, opts: { takeOverMs?: number; consequence: string }): Promise<() => Promise<void>> {
  const path = `${file}${FILE_LOCK_SUFFIX}`;
  return takeLock(path, opts, (who) =>
    new DirectoryInUse(
      `${file} is in use by ${who} (lock file ${path}): ${opts.consequence}. ` +
        'Give each store its own file, stop the other process, or delete the lock file if no carbonado uses the file',
    ),
  );
}

async function takeLock(
  path: string,
  opts: { role?: LockRole; takeOverMs?: number },
  inUse: (who: string) => DirectoryInUse,
): Promise<() => Promise<void>> {
  const dir = dirname(path);
  const me = await thisProcess();
  const nonce = randomBytes(4).toString('hex');
  const here = await directoryId(dir);
  // the nonce tells this taker's lock from any other, including one of the same process
  const text = `${me.pid} ${me.boot || '-'} ${me.start || '-'} ${nonce} ${opts.role ?? 'data'} ${here}\n`;
  // written whole under a name of our own, then linked to the lock's name: link() fails when the
  // lock exists, and nobody ever sees a lock file half written
  const mine = `${path}.${process.pid}.${nonce}`;
  const release = async (): Promise<void> => {
    // only our own lock: an operator may have deleted it and another process taken it since
    if ((await readFile(path, 'utf8').catch(() => '')) === text) await unlink(path).catch(() => undefined);
  };
  try {
    await writeFile(mine, text);
  } catch (err) {
    // created but not written (a full disk): not left behind until the next start takes the lock
    await unlink(mine).catch(() => undefined);
    // a data disk 100 % full must not stop the store that is to drain onto it after a crash
    if (isNoSpace(err)) throw new LockUnavailable(`cannot write the lock file ${path}: ${(err as Error).message}`);
    const code = (err as NodeJS.ErrnoException).code;
    // the bare errno named a temporary file of ours, not what to fix
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new Error(`${dir} is not writable by this process (${code}${code === 'EROFS' ? ': a read-only filesystem' : ''}): carbonado writes its lock, files and write-ahead log there; give the user it runs as write access, or choose another directory`, { cause: err });
    }
    throw err;
  }
  const take = new ExclusiveName(mine, text);
  const deadline = Date.now() + (opts.takeOverMs ?? TAKE_OVER_MS);
  try {
    for (;;) {
      try {
        await take.at(path);
        await sweepLeftovers(dir, basename(path)).catch(() => undefined);
        return release;
      } catch (err) {
        if (isNoSpace(err)) throw new LockUnavailable(`cannot write the lock file ${path}: ${(err as Error).message}`);
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = await readLock(path);
      if (seen === undefined) continue; // released meanwhile
      // an exclusive create (no hard links) is visible before its text
      if (seen === '') throw inUse('another process (the lock file is empty: being written, or left by a crash on a filesystem without hard links)');
      const holder = parse(seen);
      if (holder && !isCopy(holder, here) && (await isRunning(holder, me))) {
        throw inUse(holder.role === 'linked' ? `process ${holder.pid}, whose store reaches it through a symlink in its data directory` : `process ${holder.pid}`);
      }
      // left by a process that is gone (kill -9, power loss). Removed only under a marker named
      // after this very lock's text: of the takers that saw it, one at a time holds the marker and
      // checks that the lock is still the one seen, so none can remove a lock another taker got
      // after it (moving the lock aside and giving it back when it turned out fresh could not
      // stop a third taker from slipping in between: two winners)
      const marker = breakingMarker(path, seen);
      const broken = await breakUnder(marker, take, me, () => readLock(path).then((now) => (now === seen ? unlink(path).catch(ignoreGone) : undefined))).catch((err: unknown) => {
        // a marker is a file to write too (an exclusive create where there are no hard links)
        if (isNoSpace(err)) throw new LockUnavailable(`cannot write the lock file ${path}: ${(err as Error).message}`);
        throw err;
      });
      if (Date.now() > deadline) {
        throw inUse(broken ? 'another process (the lock file kept changing)' : `another process taking over the stale lock (marker ${marker}: delete it if no carbonado is starting)`);
      }
      if (!broken) await delay(1 + Math.random() * 4);
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** how long a taker waits for another one that is removing the same stale lock */
const TAKE_OVER_MS = 5000;

/** The name of the marker under which a stale lock holding `text` is removed. */
export function breakingMarker(lockPath: string, text: string): string {
  return `${lockPath}.breaking.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/**
 * Creates `name` only if it does not exist, holding `text` (ours): a hard link to the file written
 * whole under our own name, or on a filesystem without hard links (vfat, some SMB and FUSE mounts)
 * an exclusive create, which others can see empty for a moment (they read it as held).
 */
class ExclusiveName {
  private hardLinks = true;
  constructor(private readonly mine: string, private readonly text: string) {}

  async at(name: string): Promise<void> {
    if (this.hardLinks) {
      try {
        return await link(this.mine, name);
      } catch (err) {
        if (!isNoHardLinks(err)) throw err;
        this.hardLinks = false;
      }
    }
    try {
      await writeFile(name, this.text, { flag: 'wx' });
    } catch (err) {
      // created but not written (a full disk): an empty lock or marker would be read as held
      // by every later start, until removed by hand
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(name).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Runs `work` while holding `marker`; true when it ran, false when another live taker holds the
 * marker. A marker left by a taker that died holding it is removed (moved aside and checked, as
 * above: a race of three takers there needs a crash within the milliseconds a marker is held).
 */
async function breakUnder(marker: string, take: ExclusiveName, me: Holder, work: () => Promise<unknown>): Promise<boolean> {
  try {
    await take.at(marker);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const seen = await readFile(marker, 'utf8').catch(() => undefined);
    const holder = seen ? parse(seen) : undefined;
    // gone meanwhile, being written (no hard links), or its taker still at work: try again later
    if (seen === undefined || !holder || (await isRunning(holder, me))) return false;
    const aside = `${marker}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await rename(marker, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    if ((await readFile(aside, 'utf8').catch(() => undefined)) !== seen) await link(aside, marker).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return false;
  }
  try {
    await work();
  } finally {
    await unlink(marker).catch(() => undefined);
  }
  return true;
}

/**
 * Removes what takers that died mid-take left beside the lock: their own lock files
 * (`.carbonado-lock.<pid>.<hex>`), what they moved aside (`….stale.<pid>.<hex>`) and markers whose
 * taker is gone. Only while we hold the lock: no marker can then be needed, because the lock it
 * was named after is no longer the lock.
 */
async function sweepLeftovers(dir: string, lockName: string): Promise<void> {
  const prefix = `${lockName}.`;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const own = /\.(\d+)\.[0-9a-f]{8}$/.exec(name);
    let pid: number | undefined;
    if (own) pid = Number(own[1]);
    else if (name.startsWith(`${prefix}breaking.`)) pid = parse(await readFile(join(dir, name), 'utf8').catch(() => ''))?.pid;
    if (pid !== undefined && pid !== process.pid && !isAlive(pid)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreGone(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

function delay(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/**
 * The pid of the running process that holds the lock file at `lockPath`, or undefined (no lock, a
 * stale one, or one being written). For the checks of stores nested in each other's directories.
 */
export async function liveHolder(lockPath: string): Promise<{ pid: number; role: LockRole } | undefined> {
  const text = await readFile(lockPath, 'utf8').catch(() => '');
  const holder = parse(text);
  if (!holder || isCopy(holder, await directoryId(dirname(lockPath)))) return undefined;
  if (!(await isRunning(holder, await thisProcess()))) return undefined;
  return { pid: holder.pid, role: holder.role === 'wal' || holder.role === 'linked' ? holder.role : 'data' };
}

/** `dev:ino` of a directory ('-' when it cannot be read) */
async function directoryId(dir: string): Promise<string> {
  const st = await stat(dir).catch(() => undefined);
  return st ? `${st.dev}:${st.ino}` : '-';
}

/** a lock that names another directory than the one it is in: copied there with the files */
function isCopy(holder: Holder, here: string): boolean {
  return holder.dir !== undefined && holder.dir !== '-' && here !== '-' && holder.dir !== here;
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
  const [pid, boot, start, , role, dir] = text.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return {
    pid: n,
    boot: boot === '-' || boot === undefined ? '' : boot,
    start: start === '-' || start === undefined ? '' : start,
    ...(role !== undefined ? { role } : {}),
    ...(dir !== undefined ? { dir } : {}),
  };
}

async function isRunning(holder: Holder, me: Holder): Promise<boolean> {
  if (holder.boot && me.boot && holder.boot !== me.boot) return false;
  if (holder.pid !== me.pid && !isAlive(holder.pid)) return false;
  const stat = await procStat(holder.pid);
  // a process killed but not yet reaped by its parent (a zombie; ~1.5 s under a slow init) holds
  // nothing: a restart right after kill -9 was refused as "in use by process N"
  if (stat.state === 'Z' || stat.state === 'X') return false;
  if (!holder.start) return true;
  return stat.start === '' || stat.start === holder.start;
}

async function thisProcess(): Promise<Holder> {
  return { pid: process.pid, boot: await bootId(), start: await startTime(process.pid) };
}

/** The kernel's id of this boot (Linux); '' elsewhere. */
async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

/** When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); '' if unknown. */
async function startTime(pid: number): Promise<string> {
  return (await procStat(pid)).start;
}

/** `pid`'s state letter (field 3 of /proc/<pid>/stat: R, S, Z…) and start time; '' where unknown. */
async function procStat(pid: number): Promise<{ state: string; start: string }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // the command name (field 2) is in parentheses and may hold spaces: count from the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: rest.length > 1 ? rest[0]! : '', start: rest.length > 19 ? rest[19]! : '' };
}
