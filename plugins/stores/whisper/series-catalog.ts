import { readdir, unlink, stat, realpath, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { isBadName, normalizeSeriesName, type FindNode, type FindOptions, type StoreContext } from '../../../core/index.js';
import { NameTree, TagIndex } from '../../shared/name-index/index.js';
import { isTaggedSeries, leafFits, seriesPath, taggedTreePath } from './paths.js';
import { FileAliases } from './file-aliases.js';
import { Slots } from './slots.js';
import { LOCK_FILE, liveHolder, type LockRole } from './dir-lock.js';
import { appendTaggedNames, moveToHashedNames, readableFileName, readableTaggedName, readTaggedNamesFile, sha256Hex, type MoveOutcome, type ReadableTaggedFile } from './tagged-files.js';

/** Series compared between turns of the event loop when a SIGHUP's walk is matched to the index. */
const RESCAN_SLICE = 8192;

/** What the walk of the data directory does with what it finds. */
interface ScanVisitor {
  /** the start-up walk also removes crash leftovers, counts torn files and learns symlinks */
  readonly startup: boolean;
  file(name: string): void;
  /** a directory (by its name prefix, `a.b.`; '' for the data directory) could not be read */
  unreadable?(prefix: string): void;
  /** tagged files under their readable names: moved to their hashed names after the walk */
  readonly readable: ReadableTaggedFile[];
  /** directories below the data directory whose data-directory lock a running process holds (not walked) */
  readonly locked?: Array<{ readonly dir: string; readonly pid: number; readonly role: LockRole }>;
  /** the real paths of the directories this store has locked as linked ones: its own, walked */
  readonly ownLinked?: ReadonlySet<string>;
  /** the real paths of the directories the walk reached through symlinks */
  readonly links?: string[];
}

/**
 * What the whisper store knows of its series: the names it has seen, which of them have a file,
 * the name tree that `find` answers from and the tag index. Built by one walk of the data
 * directory at start and kept current by the store as it creates files (no periodic walk); a
 * SIGHUP walks again. Also what the walk learns on the way: symlinked files and directories,
 * other filesystems under the tree (sync roots), torn files set aside, and tagged files under
 * carbon's readable names, which it moves to their hashed names.
 */
export class SeriesCatalog {
  readonly tags = new TagIndex();
  private readonly tree = new NameTree();
  // the sets are changed only here; others see them read-only (same objects, no copy)
  private readonly knownNames = new Set<string>();
  private readonly onDiskNames = new Set<string>();
  /** directory listings of a walk in flight at once (enough to keep libuv's four threads busy) */
  private readonly listings = new Slots(8);
  private readonly syncRootDirs = new Set<string>();
  /** every series seen: on disk, or accepted into the cache */
  readonly known: ReadonlySet<string> = this.knownNames;
  readonly onDisk: ReadonlySet<string> = this.onDiskNames;
  /** dataDir with a trailing separator, for pathOf */
  private readonly dataDirPrefix: string;
  /** dataDir and every directory in the tree on another filesystem (a mount or a symlinked disk) */
  readonly syncRoots: ReadonlySet<string> = this.syncRootDirs;
  /** names that reach one file through symlinks: one persist thread per file (set by the walk) */
  aliases = new FileAliases('');
  /**
   * Set when the data directory ignores case (exFAT, vfat, macOS's default APFS, some SMB
   * mounts), where `a.b` and `A.b` name one file: name folded to ASCII lower case → the spelling
   * whose path the store uses for that file, the one found on disk or else the first one seen.
   * One path per file keeps its updates in one thread and one open descriptor (two spellings
   * through a FUSE mount are two inodes to the kernel, whose page caches overwrite each other).
   */
  private spellings: Map<string, string> | undefined;
  /** where case is folded: the data directory itself, and linked directories by name prefix */
  private caseFold: { readonly root: boolean; readonly links: ReadonlySet<string> } | undefined;
  /** another store's data directories below this one, found by the start-up walk (their lock held) */
  readonly lockedBelow: Array<{ readonly dir: string; readonly pid: number; readonly role: LockRole }> = [];
  /** `.wsp.torn-<ms>` files under dataDir: kept for the operator, never deleted by the store */
  tornAside = 0;
  private readonly tornExamples: string[] = [];
  private readonly taggedToSave: string[] = [];
  /** readable-named tagged files that could not be moved, already reported (not tried again) */
  private readonly leftReported = new Set<string>();
  private adoptions: Promise<void> = Promise.resolve();
  /** while a rescan walks: the series created meanwhile (the walk may have missed their files) */
  private rescanCreated: Set<string> | undefined;

  /** `pending`: whether the cache holds points of a series (a rescan keeps it whatever it saw) */
  constructor(
    private readonly ctx: StoreContext,
    private readonly dataDir: string,
    private readonly pending: (name: string) => boolean,
  ) {
    this.dataDirPrefix = dataDir.endsWith(sep) ? dataDir : dataDir + sep;
  }

  /** The start-up walk: the index, symlinks, sync roots, crash leftovers and tagged names. */
  async walkAtStart(): Promise<void> {
    const top = await stat(this.dataDir);
    this.aliases = new FileAliases(await realpath(this.dataDir));
    this.syncRootDirs.add(this.dataDir);
    const walk: ScanVisitor = { startup: true, file: (n) => this.indexFile(n), readable: [], locked: this.lockedBelow };
    await this.scan(this.dataDir, '', top.dev, new Set([`${top.dev}:${top.ino}`]), walk);
    await this.probeCase();
    await this.adoptReadable(walk.readable, walk.file);
    if (this.tornAside > 0) {
      this.ctx.log.warn('whisper files set aside after torn creates are still in the data directory; their series were created again from the WAL: look at them and delete them', {
        count: this.tornAside,
        first: this.tornExamples.join(' '),
      });
    }
    await this.loadTaggedNames();
    await this.saveTaggedNames();
  }

  /**
   * The file of a series. A known plain name was checked when it was admitted (or comes from a
   * file in the tree), so its path is a concatenation; the full check and join cost ~3 µs per
   * series, a few ms of every 1,000-series render.
   */
  pathOf(name: string): string | undefined {
    if (this.spellings) name = this.spellingOf(name);
    if (this.known.has(name) && !isTaggedSeries(name)) return `${this.dataDirPrefix}${name.replaceAll('.', sep)}.wsp`;
    return seriesPath(this.dataDir, name);
  }

  /** The same string for every name of one file: the persister gives each key one thread. */
  laneKey(name: string): string {
    return this.aliases.keyOf(this.spellings ? this.spellingOf(name) : name);
  }

  /** The spelling of `name`'s file on a data directory that ignores case (`name` elsewhere). */
  private spellingOf(name: string): string {
    const key = this.spellingKey(name);
    return key === undefined ? name : (this.spellings?.get(key) ?? name);
  }

  private addSpelling(name: string): void {
    const key = this.spellingKey(name);
    if (key !== undefined && !this.spellings!.has(key)) this.spellings!.set(key, name);
  }

  /**
   * The same string for the names of one file where case is folded, undefined where it is not.
   * Each part is folded by its own filesystem: the data directory's for the names under it, a
   * linked directory's for the rest of the names under the link (a case-sensitive disk linked
   * into a case-insensitive tree keeps `x.A` and `x.a` apart, and the other way round).
   */
  private spellingKey(name: string): string | undefined {
    const fold = this.caseFold;
    if (!fold || isTaggedSeries(name)) return undefined;
    const link = this.aliases.linkOf(name);
    if (link === undefined) return fold.root ? foldAsciiCase(name) : undefined;
    const inLink = fold.links.has(link.prefix);
    if (!fold.root && !inLink) return undefined;
    const rest = name.slice(link.prefix.length);
    return (fold.root ? foldAsciiCase(link.prefix) : link.prefix) + (inLink ? foldAsciiCase(rest) : rest);
  }

  /**
   * Which of the tree's filesystems ignore case: the data directory's and each linked
   * directory's, probed once the start-up walk has found the links. The spellings of the files
   * found on disk come first.
   */
  private async probeCase(): Promise<void> {
    const root = await ignoresCase(this.dataDir);
    const links = new Set<string>();
    for (const l of this.aliases.directoryLinks) if (await ignoresCase(l.real)) links.add(l.prefix);
    if (!root && links.size === 0) return;
    this.caseFold = { root, links };
    this.spellings = new Map();
    for (const name of this.onDiskNames) this.addSpelling(name);
    this.ctx.log.info('directories of the tree ignore case: series names that differ only in ASCII case share one file there (as with carbon), written under one spelling', {
      dataDir: root ? this.dataDir : undefined,
      linked: [...links].map((p) => p.slice(0, -1)).join(' ') || undefined,
    });
  }

  /** First sight of a series: validate it and make it findable at once. */
  admit(name: string): boolean {
    const norm = normalizeSeriesName(name);
    if (isBadName(norm) || norm !== name || seriesPath(this.dataDir, name) === undefined) {
      const reason = isBadName(norm) ? norm.bad : norm !== name ? 'not_canonical' : !leafFits(name) ? 'file_name_too_long (last node over 251 bytes)' : 'bad_path';
      this.ctx.log.limited('bad_name', 'series name refused', { name: name.slice(0, 200), reason });
      return false;
    }
    this.knownNames.add(name);
    this.addSpelling(name);
    this.tags.add(name);
    this.tree.add(isTaggedSeries(name) ? taggedTreePath(name) : name);
    return true;
  }

  /** The persister made (or found) the series' file; false when it was already known to exist. */
  created(name: string): boolean {
    if (this.onDisk.has(name)) return false;
    this.markOnDisk(name);
    this.rescanCreated?.add(name);
    if (isTaggedSeries(name)) this.taggedToSave.push(name);
    return true;
  }

  /** The series' file was removed from under the store (by hand): the next pass creates it. */
  fileRemoved(name: string): void {
    this.onDiskNames.delete(name);
  }

  /** The series' file had no header (a create cut short by a power loss) and was set aside: the next pass creates it. */
  tornFileSetAside(name: string): void {
    this.onDiskNames.delete(name);
    this.tornAside++;
  }

  async find(pattern: string, opts?: FindOptions): Promise<FindNode[]> {
    if (pattern.includes(';') && !pattern.startsWith('_tagged.')) {
      // graphite-web: a tagged "pattern" is looked up as one exact series
      const n = normalizeSeriesName(pattern);
      return !isBadName(n) && this.known.has(n) ? [{ path: n, isLeaf: true }] : [];
    }
    return this.tree.findAsync(pattern, opts);
  }

  /** Records the names of tagged series created since the last call (carbonado's tagged-names file). */
  async saveTaggedNames(): Promise<void> {
    if (this.taggedToSave.length === 0) return;
    const names = this.taggedToSave.splice(0);
    try {
      await appendTaggedNames(this.dataDir, names);
    } catch (err) {
      for (const n of names) this.taggedToSave.push(n);
      this.ctx.stats.addError('tagged_names');
      this.ctx.log.limited('tagged_names', 'cannot record tagged series names', { error: err as Error });
    }
  }

  /**
   * Walks the tree on disk, at start and on SIGHUP (no periodic walk). Symlinked directories and
   * files are followed, as graphite-web's finder follows them (operators spread big trees over
   * disks that way); a link back into its own ancestry is skipped. A directory on another
   * filesystem than its parent becomes a sync root, so the sync before WAL segments are deleted
   * covers it too.
   */
  private async scan(dir: string, prefix: string, dev: number, ancestors: ReadonlySet<string>, visit: ScanVisitor): Promise<void> {
    // a tree of millions of files can take longer than lifecycle.startTimeoutMs: it is moving on
    if (visit.startup) this.ctx.startProgress?.();
    await this.listings.take();
    let subdirs: Promise<void>[];
    try {
      subdirs = await this.scanEntries(dir, prefix, dev, ancestors, visit);
    } finally {
      this.listings.give();
    }
    await Promise.all(subdirs);
  }

  /** One directory's entries, its slot held; the walk into subdirectories goes on after. */
  private async scanEntries(dir: string, prefix: string, dev: number, ancestors: ReadonlySet<string>, visit: ScanVisitor): Promise<Promise<void>[]> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      this.ctx.stats.addError('scan');
      this.ctx.log.warn('cannot read directory while indexing', { dir, error: err as Error });
      visit.unreadable?.(prefix);
      return [];
    }
    // another store's data or WAL directory (its lock held): not ours to index, nor to clean up
    // after (its temporary files are live); the caller refuses to start (whisper-store.ts)
    if (visit.locked && prefix !== '' && entries.some((e) => e.name === LOCK_FILE)) {
      const held = await liveHolder(join(dir, LOCK_FILE));
      const own = held?.pid === process.pid && held.role === 'linked' && visit.ownLinked?.has(await realpath(dir).catch(() => dir));
      if (held !== undefined && !own) {
        if (held.role !== 'wal') visit.locked.push({ dir, pid: held.pid, role: held.role });
        return [];
      }
    }
    const subdirs: Promise<void>[] = [];
    let n = 0;
    for (const e of entries) {
      // a flat directory of a million files is no reason to stop answering
      if (++n % 4096 === 0) await new Promise((r) => setImmediate(r));
      if (e.name.startsWith('.')) {
        // a temporary file of a create interrupted by a crash (while running, it may be a live one)
        if (visit.startup && e.isFile() && e.name.endsWith('.tmp') && e.name.includes('.wsp.')) await unlink(join(dir, e.name)).catch(() => undefined);
        continue;
      }
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let real: string | undefined;
      let target: Stats | undefined;
      if (e.isSymbolicLink()) {
        target = await stat(join(dir, e.name)).catch(() => undefined); // dangling: nothing to index
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
        if (target) real = await realpath(join(dir, e.name)).catch(() => undefined);
      }
      if (isDir) {
        if (visit.startup && real !== undefined) this.aliases.addDirectoryLink(`${prefix}${e.name}.`, real);
        if (real !== undefined) visit.links?.push(real);
        subdirs.push(this.scanSubdir(join(dir, e.name), `${prefix}${e.name}.`, dev, ancestors, visit, target));
      } else if (isFile && e.name.endsWith('.wsp') && e.name.length > 4) {
        const leaf = e.name.slice(0, -4);
        const tagged = real === undefined && prefix.startsWith('_tagged.') ? readableTaggedName(prefix, leaf) : undefined;
        if (tagged !== undefined) {
          visit.readable.push({ dir, file: e.name, name: tagged });
          continue;
        }
        const name = prefix + leaf;
        if (name.includes(sep)) continue;
        if (visit.startup && real !== undefined) this.aliases.addFileLink(name, real);
        visit.file(name);
      } else if (visit.startup && isFile && e.name.includes('.wsp.torn-')) {
        if (this.tornAside++ < 3) this.tornExamples.push(join(dir, e.name));
      }
    }
    return subdirs;
  }

  /** `known`: the stat of a symlink's target, already taken by the caller */
  private async scanSubdir(path: string, prefix: string, parentDev: number, ancestors: ReadonlySet<string>, visit: ScanVisitor, known?: Stats): Promise<void> {
    let st = known;
    try {
      st ??= await stat(path);
    } catch (err) {
      this.ctx.stats.addError('scan');
      this.ctx.log.warn('cannot read directory while indexing', { dir: path, error: err as Error });
      visit.unreadable?.(prefix);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (ancestors.has(key)) {
      this.ctx.log.warn('symlink loop in the data directory: not followed', { dir: path });
      return;
    }
    if (st.dev !== parentDev) this.syncRootDirs.add(path);
    await this.scan(path, prefix, st.dev, new Set(ancestors).add(key), visit);
  }

  /** A `.wsp` found on disk enters the index (find, tags, and the set of files that exist). */
  private indexFile(name: string): void {
    this.onDiskNames.add(name);
    this.knownNames.add(name);
    this.addSpelling(name);
    this.tree.add(name);
    if (!name.startsWith('_tagged.')) this.tags.add(name);
  }

  /**
   * SIGHUP: walks the data directory again and brings the index in line with it, so files made
   * by other tools while carbonado runs (a restore, whisper-create, an rsync, a carbon-cache beside
   * it) are found, and files deleted by hand (a cleanup with `find -mtime +N -delete`) are no
   * longer listed. Series created by the store while the walk runs, and series with points still
   * in the cache, are kept whatever the walk saw. As at start, the walk does not go into another
   * running store's directory (a symlink made meanwhile can lead there). `ownLinked`: the linked
   * directories this store holds the lock of. Returns the real paths of the directories the walk
   * reached through symlinks, for the store to lock those it does not hold yet; `complete` when
   * the walk read every directory, so that a linked directory it did not reach is truly no longer
   * linked (one behind an unreadable directory may still be written through it).
   */
  async rescan(ownLinked: ReadonlySet<string>): Promise<{ links: string[]; complete: boolean }> {
    if (this.rescanCreated) return { links: [], complete: false }; // one walk at a time
    // series created from here to the end of the comparison (the walk may have missed their files)
    const created = (this.rescanCreated = new Set());
    try {
      return await this.rescanWith(created, ownLinked);
    } finally {
      this.rescanCreated = undefined;
    }
  }

  private async rescanWith(created: ReadonlySet<string>, ownLinked: ReadonlySet<string>): Promise<{ links: string[]; complete: boolean }> {
    const seen = new Set<string>();
    // a directory the walk could not read says nothing about the files under it
    const unreadable: string[] = [];
    const t0 = performance.now();
    const walk: ScanVisitor = { startup: false, file: (n) => seen.add(n), unreadable: (p) => unreadable.push(p), readable: [], locked: [], ownLinked, links: [] };
    try {
      const top = await stat(this.dataDir);
      await this.scan(this.dataDir, '', top.dev, new Set([`${top.dev}:${top.ino}`]), walk);
      await this.adoptReadable(walk.readable, walk.file);
    } catch (err) {
      this.ctx.stats.addError('rescan');
      this.ctx.log.error('re-reading the data directory failed; the index stays as it was', { error: err as Error });
      return { links: [], complete: false };
    }
    const leftOut = new Set<string>();
    for (const { dir, pid } of walk.locked!) {
      this.ctx.stats.addError('nested_store');
      this.ctx.log.error("another running store's directory is inside the data directory (reached through a symlink made since the start?): its series are not indexed", { dir, pid });
      leftOut.add(await realpath(dir).catch(() => dir));
    }
    const treePaths = await this.taggedTreePaths();
    // hashed files whose series is known by name: the name stands for them (markOnDisk)
    const named = new Set(treePaths.values());
    let added = 0;
    let visited = 0;
    for (const name of seen) {
      if (++visited % RESCAN_SLICE === 0) await new Promise((r) => setImmediate(r));
      if (this.onDisk.has(name) || named.has(name)) continue;
      this.indexFile(name);
      added++;
    }
    let removed = 0;
    // deleting the entry being visited is safe while iterating a Set, and so is a series created
    // during a turn (it is in `created`)
    for (const name of this.onDisk) {
      if (++visited % RESCAN_SLICE === 0) await new Promise((r) => setImmediate(r));
      const path = isTaggedSeries(name) ? (treePaths.get(name) ?? taggedTreePath(name)) : name;
      if (seen.has(path) || created.has(name) || this.pending(name) || unreadable.some((p) => path.startsWith(p))) continue;
      this.onDiskNames.delete(name);
      this.knownNames.delete(name);
      this.tree.delete(path);
      this.tags.delete(name);
      removed++;
    }
    // names another tool added (carbonado import-tags) for files now on disk
    await this.loadTaggedNames();
    await this.saveTaggedNames();
    this.ctx.stats.count('rescans');
    this.ctx.log.info('data directory re-read', { added, removed, series: this.onDisk.size, ms: Math.round(performance.now() - t0) });
    return { links: walk.links!.filter((real) => !leftOut.has(real)), complete: unreadable.length === 0 };
  }

  /**
   * The tree path of every tagged series on disk, by name: one sha256 each (about 3 µs), so the
   * event loop gets a turn every few thousand; a million tagged series would block it for seconds.
   */
  private async taggedTreePaths(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let n = 0;
    for (const name of [...this.onDisk]) {
      if (!isTaggedSeries(name)) continue;
      out.set(name, taggedTreePath(name));
      if (++n % 4096 === 0) await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  /**
   * Tagged files that carbon named after their series (TAG_HASH_FILENAMES = False) are moved to
   * their hashed names, as carbon-cache does when it next writes such a series, so that new points
   * land in the file that holds the old ones (graphite-web reads either name). `visit` gets each
   * file's path in the tree as it is afterwards; a file left in place is read by that path.
   */
  private async adoptReadable(found: readonly ReadableTaggedFile[], visit: (path: string) => void): Promise<void> {
    if (found.length === 0) return;
    const readablePath = (f: ReadableTaggedFile) => {
      const h = sha256Hex(f.name);
      return `_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.${f.file.slice(0, -4)}`;
    };
    // a file that could not be moved is not tried again until the next start
    const retry: ReadableTaggedFile[] = [];
    for (const f of found) {
      if (this.leftReported.has(join(f.dir, f.file))) visit(readablePath(f));
      else retry.push(f);
    }
    await this.serially(async () => {
      const r = await moveToHashedNames(this.dataDir, retry);
      retry.forEach((f, i) => {
        if (r.moved[i]) {
          visit(taggedTreePath(f.name));
          this.learnTaggedName(f.name);
        } else visit(readablePath(f));
      });
      this.reportMoves(r, retry);
    });
  }

  /**
   * Before tagged series' files are created: a file under the readable name becomes the series'
   * file, as carbon-cache checks in exists() (one that arrived after the last walk, by a restore
   * or an rsync from a carbon).
   */
  async adoptReadableBeforeCreate(names: readonly string[]): Promise<void> {
    await this.serially(async () => {
      const found: ReadableTaggedFile[] = [];
      await Promise.all(
        names.map(async (name) => {
          const h = sha256Hex(name);
          const dir = join(this.dataDir, '_tagged', h.slice(0, 3), h.slice(3, 6));
          const file = readableFileName(name);
          if (this.leftReported.has(join(dir, file))) return;
          if ((await stat(join(dir, file)).catch(() => undefined))?.isFile()) found.push({ dir, file, name });
        }),
      );
      if (found.length === 0) return;
      const r = await moveToHashedNames(this.dataDir, found);
      found.forEach((f, i) => {
        if (!r.moved[i]) return;
        this.learnTaggedName(f.name);
        this.rescanCreated?.add(f.name); // a walk that listed the directory before the move must keep it
      });
      this.reportMoves(r, found);
    });
  }

  /** Moves of readable-named files, one at a time: a walk and a create may find the same file. */
  private serially(fn: () => Promise<void>): Promise<void> {
    const p = this.adoptions.then(fn);
    this.adoptions = p.catch(() => undefined);
    return p;
  }

  private reportMoves(r: MoveOutcome, found: readonly ReadableTaggedFile[]): void {
    const moved = r.moved.filter(Boolean).length;
    if (moved > 0) {
      this.ctx.stats.count('tagged_files_renamed', moved);
      this.ctx.log.info('tagged series files named after their series moved to their hashed names, as carbon-cache does', { files: moved, first: found[r.moved.indexOf(true)]!.file });
    }
    if (r.recordError) {
      this.ctx.stats.addError('tagged_names');
      this.ctx.log.warn('cannot record the names of tagged series files named after their series: the files are left where they are and read by their paths', { files: found.length, error: r.recordError });
    }
    // reported once per file: a walk on every SIGHUP finds them again
    const fresh = r.left.filter((l) => !this.leftReported.has(l.file));
    if (fresh.length === 0) return;
    for (const l of fresh) this.leftReported.add(l.file);
    this.ctx.stats.addError('tagged_rename', fresh.length);
    this.ctx.log.warn(
      'tagged series files named after their series could not be moved to their hashed names: read by their paths, not by their tags (both_names_exist: merge the two with whisper-merge, then delete the readable one)',
      { files: fresh.length, first: fresh[0]!.file, reason: fresh[0]!.reason },
    );
  }

  /**
   * A series' file exists. A hashed tagged file is listed by its tree path (`_tagged.…`) only
   * while its series' name is unknown: one entry per file, so `series_on_disk` counts files.
   */
  private markOnDisk(name: string): void {
    this.onDiskNames.add(name);
    if (isTaggedSeries(name)) this.onDiskNames.delete(taggedTreePath(name));
  }

  /** A tagged series whose hashed file exists: found by its name and tags. */
  private learnTaggedName(name: string): void {
    if (this.onDisk.has(name)) return;
    this.markOnDisk(name);
    this.knownNames.add(name);
    this.tags.add(name);
  }

  /**
   * At start and on every SIGHUP. A name already known costs one set lookup (no sha256, no
   * normalising), and the event loop gets a turn every few thousand lines: the file only grows,
   * and a million lines took ~7 s of blocked loop per SIGHUP.
   */
  private async loadTaggedNames(): Promise<void> {
    let n = 0;
    for (const name of await readTaggedNamesFile(this.dataDir)) {
      if (++n % 4096 === 0) {
        this.ctx.startProgress?.();
        await new Promise((r) => setImmediate(r));
      }
      if (this.onDisk.has(name) || !this.onDisk.has(taggedTreePath(name))) continue;
      const norm = normalizeSeriesName(name);
      if (isBadName(norm) || norm !== name) continue;
      this.learnTaggedName(name);
    }
  }
}

function swapAsciiCase(name: string): string {
  return name.replace(/[A-Za-z]/g, (c) => (c <= 'Z' ? c.toLowerCase() : c.toUpperCase()));
}

/**
 * ASCII letters only: every case-insensitive filesystem folds them, while beyond ASCII they
 * disagree (and folding a pair the filesystem keeps apart would merge two series' files).
 */
function foldAsciiCase(name: string): string {
  return /[A-Z]/.test(name) ? name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : name;
}

/**
 * Whether `dir` finds an entry under another case of its name. An entry already there is looked
 * up with its letters' case swapped (no write: a full or read-only disk can be probed too); an
 * empty directory gets a probe file. False when it cannot be probed.
 */
async function ignoresCase(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const listed = new Set(entries);
  const sample = entries.find((n) => /[A-Za-z]/.test(n) && !listed.has(swapAsciiCase(n)));
  if (sample !== undefined) return stat(join(dir, swapAsciiCase(sample))).then(() => true, () => false);
  const name = `.carbonado-case-probe.${process.pid}`;
  try {
    await writeFile(join(dir, name), '');
  } catch {
    return false;
  }
  try {
    await stat(join(dir, name.toUpperCase()));
    return true;
  } catch {
    return false;
  } finally {
    await unlink(join(dir, name)).catch(() => undefined);
  }
}
