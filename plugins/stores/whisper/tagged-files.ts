import { createHash } from 'node:crypto';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
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

export function sha256Hex(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}

/**
 * The tagged series a readable-named file under `_tagged` holds, or undefined. `prefix` is the
 * walk's name prefix of the file's directory (`_tagged.abc.def.`), `leaf` the file name without
 * `.wsp`. The name is accepted only when its hash names the directories the file is in, so a
 * literal `_DOT_` in a name, or a file put there by hand, is never misread.
 */
export function readableTaggedName(prefix: string, leaf: string): string | undefined {
  const dirs = TAGGED_DIR_PREFIX.exec(prefix);
  if (!dirs || HASH_LEAF.test(leaf) || !leaf.includes(';')) return undefined;
  const raw = leaf.replaceAll('_DOT_', '.');
  const name = normalizeSeriesName(raw);
  if (isBadName(name) || !isTagged(name)) return undefined;
  const h = sha256Hex(name);
  return h.slice(0, 3) === dirs[1] && h.slice(3, 6) === dirs[2] ? name : undefined;
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

export function appendTaggedNames(dataDir: string, names: readonly string[]): Promise<void> {
  return appendFile(join(dataDir, TAGGED_NAMES_FILE), names.map((n) => `${n}\n`).join(''));
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
  /** refused by carbonado's name rules, or not in the canonical form carbon hashes */
  bad_name: number;
}

/**
 * Adds to the names file of the whisper tree at `dataDir` every name among `names` whose hashed
 * file exists. Appends only, so a running store (which appends to the same file) loses nothing;
 * it reads the file again on SIGHUP.
 */
export async function importTaggedNames(dataDir: string, names: Iterable<string>): Promise<TaggedNamesImport> {
  const already = new Set(await readTaggedNamesFile(dataDir));
  const counts: TaggedNamesImport = { names: 0, added: 0, known: 0, readable_file: 0, no_file: 0, bad_name: 0 };
  const add: string[] = [];
  for (const raw of new Set(names)) {
    counts.names++;
    const name = normalizeSeriesName(raw);
    if (isBadName(name) || name !== raw || !isTagged(name)) {
      counts.bad_name++;
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
    } else if (await isFile(join(dir, `${name.replaceAll('.', '_DOT_')}.wsp`))) counts.readable_file++;
    else counts.no_file++;
  }
  if (add.length > 0) await appendTaggedNames(dataDir, add);
  return counts;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

