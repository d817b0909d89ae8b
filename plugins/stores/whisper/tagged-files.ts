import { link, lstat, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from './paths.js';
import { isNoHardLinks } from './hard-links.js';
import { isBadName, isTagged, normalizeSeriesName } from '../../../core/index.js';

/**
 * Tagged series on disk. carbon names a tagged series' file after the sha256 of its name
 * (`_tagged/<h3>/<h3>/<hash>.wsp`, TAG_HASH_FILENAMES = True, its default), or after the name
 * itself with each `.` written `_DOT_` (TAG_HASH_FILENAMES = False). A hashed file cannot be
 * named from its path, so the store keeps the names it has written in a file of its own; a
 * readable-named file carries its name, which the hash in its directories confirms.
 */

/** Names of tagged series whose files are named by hash; a dotfile, so graphite-web skips it. */
export const TAGGED_NAMES_FILE = join('_tagged', '.carbonado-tagged-names');

const HASH_LEAF = /^[0-9a-f]{64}$/;
const TAGGED_DIR_PREFIX = /^_tagged\.([0-9a-f]{3})\.([0-9a-f]{3})\.$/;

export { sha256Hex };

/** carbon's readable file name for a tagged series (TaggedSeries.encode with hash_only=False) */
export function readableFileName(name: string): string {
  return `${name.replaceAll('.', '_DOT_')}.wsp`;
}

/** readings of a leaf's `_DOT_`s tried at most (a name with ten `_DOT_`s of its own has 1,024) */
const MAX_READINGS = 1024;

/**
 * The tagged series a readable-named file under `_tagged` holds, or undefined. `prefix` is the
 * walk's name prefix of the file's directory (`_tagged.abc.def.`), `leaf` the file name without
 * `.wsp`. carbon's encoding cannot be undone with certainty (a name may hold `_DOT_` itself, and
 * `_DOT_DOT_` has two readings), so each reading is tried, every `_DOT_` as `.` first, and a name
 * is accepted only when its hash names the directories the file is in: a file put there by hand
 * is never misread.
 */
export function readableTaggedName(prefix: string, leaf: string): string | undefined {
  const dirs = TAGGED_DIR_PREFIX.exec(prefix);
  if (!dirs || HASH_LEAF.test(leaf) || !leaf.includes(';')) return undefined;
  for (const raw of dotReadings(leaf)) {
    const name = normalizeSeriesName(raw);
    if (isBadName(name) || !isTagged(name)) continue;
    const h = sha256Hex(name);
    if (h.slice(0, 3) === dirs[1] && h.slice(3, 6) === dirs[2]) return name;
  }
  return undefined;
}

/** Every way to read the leaf's `_DOT_`s (overlapping ones too) as `.` or as text, dots first. */
function* dotReadings(leaf: string): Generator<string> {
  let count = 0;
  function* from(p: number, head: string): Generator<string> {
    const next = leaf.indexOf('_DOT_', p);
    if (next < 0) {
      count++;
      yield head + leaf.slice(p);
      return;
    }
    yield* from(next + 5, `${head}${leaf.slice(p, next)}.`);
    if (count < MAX_READINGS) yield* from(next + 1, `${head}${leaf.slice(p, next + 1)}`);
  }
  yield* from(0, '');
}

/** Reads the store's names file: every line once, in the order written. */
export async function readTaggedNamesFile(dataDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, TAGGED_NAMES_FILE), 'utf8');
  } catch {
    return [];
  }
  return [...new Set(text.split('\n'))].filter((n) => n !== '');
}

/** `sync`: on disk before this resolves (the names are about to be the only record of themselves) */
export async function appendTaggedNames(dataDir: string, names: readonly string[], opts: { sync?: boolean } = {}): Promise<void> {
  const fh = await open(join(dataDir, TAGGED_NAMES_FILE), 'a');
  try {
    await fh.appendFile(names.map((n) => `${n}\n`).join(''));
    if (opts.sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface TaggedNamesImport {
  /** names read from the sources, after removing repeats */
  names: number;
  /** names whose hashed file exists, now in the names file */
  added: number;
  /** already in the names file */
  known: number;
  /** only a readable-named file exists: the store renames it to the hashed name at its next start or SIGHUP */
  readable_file: number;
  /** no file under either name (the series has no data here) */
  no_file: number;
  /** names without tags (graphite-web's tag database lists every series): their files are found by path */
  untagged: number;
  /** refused by carbonado's name rules */
  bad_name: number;
}

/**
 * Adds to the names file of the whisper tree at `dataDir` every name among `names` whose hashed
 * file exists. Appends only, so a running store (which appends to the same file) loses nothing;
 * it reads the file again on SIGHUP.
 */
export async function importTaggedNames(dataDir: string, names: Iterable<string>): Promise<TaggedNamesImport> {
  const already = new Set(await readTaggedNamesFile(dataDir));
  const counts: TaggedNamesImport = { names: 0, added: 0, known: 0, readable_file: 0, no_file: 0, untagged: 0, bad_name: 0 };
  const add: string[] = [];
  const seen = new Set<string>();
  for (const raw of new Set(names)) {
    counts.names++;
    // in the canonical form carbon hashes (tags sorted), as a hand-written list may not have it
    const name = normalizeSeriesName(raw);
    if (isBadName(name)) {
      counts.bad_name++;
      continue;
    }
    // two spellings of one series (tags in another order) are one name
    if (seen.has(name)) {
      counts.known++;
      continue;
    }
    seen.add(name);
    if (!isTagged(name)) {
      counts.untagged++;
      continue;
    }
    if (already.has(name)) {
      counts.known++;
      continue;
    }
    const h = sha256Hex(name);
    const dir = join(dataDir, '_tagged', h.slice(0, 3), h.slice(3, 6));
    if (await isFile(join(dir, `${h}.wsp`))) {
      add.push(name);
      counts.added++;
    } else if (await isFile(join(dir, readableFileName(name)))) counts.readable_file++;
    else counts.no_file++;
  }
  if (add.length > 0) await appendTaggedNames(dataDir, add);
  return counts;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}


/** A tagged series' file under its readable name, found by the walk or before a create. */
export interface ReadableTaggedFile {
  /** its directory, `<dataDir>/_tagged/<h3>/<h3>` */
  readonly dir: string;
  /** its file name, `<name with . as _DOT_>.wsp` */
  readonly file: string;
  /** the tagged series it holds */
  readonly name: string;
}

export interface MoveOutcome {
  /** per file: moved to its hashed name (or found already there) */
  readonly moved: boolean[];
  /** files left where they are, and why */
  readonly left: Array<{ file: string; hashed: string; reason: string }>;
  /** the names could not be recorded, so nothing was moved */
  readonly recordError?: Error;
}

/**
 * Moves readable-named tagged files to their hashed names, as carbon-cache does when it writes
 * such a series (database.py, exists()). The names are appended to the names file and synced
 * first: once a file is moved, that record is the only place its name is kept. `link` + `unlink`
 * rather than `rename`, which would replace a hashed file created meanwhile; a file already under
 * both names (a move a crash cut short) loses its readable name.
 */
export async function moveToHashedNames(dataDir: string, files: readonly ReadableTaggedFile[]): Promise<MoveOutcome> {
  const moved = files.map(() => false);
  const left: MoveOutcome['left'] = [];
  if (files.length === 0) return { moved, left };
  try {
    await appendTaggedNames(dataDir, [...new Set(files.map((f) => f.name))], { sync: true });
  } catch (err) {
    return { moved, left, recordError: err as Error };
  }
  for (const [i, f] of files.entries()) {
    const from = join(f.dir, f.file);
    const to = join(f.dir, `${sha256Hex(f.name)}.wsp`);
    try {
      await linkOrRename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      const [a, b] = code === 'EEXIST' || code === 'ENOENT' ? await Promise.all([stat(from).catch(() => undefined), stat(to).catch(() => undefined)]) : [];
      // gone from its readable name and under its hashed one: another move finished first
      const movedElsewhere = !a && b !== undefined;
      // the same file under both names: a move that a crash cut short
      const halfMoved = a && b && a.ino === b.ino && a.dev === b.dev;
      if (!movedElsewhere && !halfMoved) {
        left.push({ file: from, hashed: to, reason: code === 'EEXIST' ? 'both_names_exist' : code });
        continue;
      }
    }
    await unlink(from).catch(() => undefined);
    moved[i] = true;
  }
  return { moved, left };
}

/**
 * `link` where the filesystem has hard links; where it has none (exFAT, vfat, some SMB and FUSE
 * mounts), a rename when nothing is at `to`. The store creates a series' hashed file only after
 * this move, so nothing of its own appears there in between.
 */
async function linkOrRename(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    if (!isNoHardLinks(err)) throw err;
    if (await lstat(to).then(() => true, () => false)) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
    await rename(from, to);
  }
}
