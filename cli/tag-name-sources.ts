import { open, readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';

/**
 * Names of tagged series from where a carbon + graphite-web installation keeps them, for the
 * files carbon named by hash:
 * - graphite-web's own database when its tag database is the default local one (SQLite,
 *   e.g. /var/lib/graphite/graphite.db on Debian; table `tags_series`);
 * - a JSON array of names, as graphite-web's `/tags/findSeries?expr=name!=` answers whatever its
 *   tag database (Redis, MySQL, PostgreSQL);
 * - a text file, one name per line (`#` starts a comment line).
 */
export async function readTagNameSource(path: string): Promise<string[]> {
  try {
    return await readSource(path);
  } catch (err) {
    const e = err as Error;
    // every message names the source (fs errors name it only sometimes)
    throw e.message.startsWith(`${path}: `) ? e : new Error(`${path}: ${e.message}`);
  }
}

async function readSource(path: string): Promise<string[]> {
  if (await isSqlite(path)) return readGraphiteWebDb(path);
  const text = await readFile(path, 'utf8');
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.some((n) => typeof n !== 'string')) throw new Error(`${path}: expected a JSON array of series names`);
    return parsed as string[];
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const SQLITE_MAGIC = 'SQLite format 3\0';

async function isSqlite(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.toString('latin1') === SQLITE_MAGIC;
  } finally {
    await fh.close();
  }
}

function readGraphiteWebDb(path: string): string[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tags_series'").get();
    if (!table) throw new Error(`${path}: an SQLite database without graphite-web's tags_series table (is it graphite-web's graphite.db, with TAGDB the local database?)`);
    return (db.prepare('SELECT path FROM tags_series ORDER BY id').pluck().all() as unknown[]).filter((p): p is string => typeof p === 'string');
  } finally {
    db.close();
  }
}

/** All names of all sources, each once. */
export async function readTagNameSources(paths: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const p of paths) for (const n of await readTagNameSource(p)) names.add(n);
  return [...names];
}
