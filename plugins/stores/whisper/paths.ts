import { createHash } from 'node:crypto';
import { join, sep } from 'node:path';
import { checkMetricPath, isTagged } from '../../../core/index.js';

/**
 * Where a series lives, as carbon and graphite-web compute it (§1.8): `a.b.c` → `a/b/c.wsp`;
 * tagged `name;k=v` → `_tagged/<h[0:3]>/<h[3:6]>/<h>.wsp`, h = sha256 of the canonical name.
 * Names reach here validated (no empty node, no `/`, `\` or NUL), so no path can leave dataDir;
 * the check below is the second line of defence and costs one scan per new series.
 */
/**
 * A tagged series' name, as opposed to a name under `_tagged.` that holds a `;` (the walk's name
 * of a readable-named file the store could not move, or a client's odd name): graphite-web's
 * finder reads such a name as a path, so the store keeps it at that path.
 */
export function isTaggedSeries(name: string): boolean {
  return isTagged(name) && !name.startsWith('_tagged.');
}

export function relativeSeriesPath(name: string): string | undefined {
  if (isTaggedSeries(name)) {
    const h = sha256Hex(name);
    return `_tagged${sep}${h.slice(0, 3)}${sep}${h.slice(3, 6)}${sep}${h}.wsp`;
  }
  if (checkMetricPath(name)) return undefined;
  if (!leafFits(name)) return undefined;
  return `${name.split('.').join(sep)}.wsp`;
}

/** Linux's NAME_MAX: the longest file name, in bytes. */
const NAME_MAX = 255;

/**
 * Whether the last node, with `.wsp`, is a file name the filesystem takes: a valid node may have 255
 * bytes, its file 259 (ENAMETOOLONG at every write). Directories take the whole 255.
 */
export function leafFits(name: string): boolean {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  // one byte per UTF-16 unit at least, four at most: the exact count only near the limit
  return leaf.length * 3 + 4 <= NAME_MAX || Buffer.byteLength(leaf, 'utf8') + 4 <= NAME_MAX;
}

export function seriesPath(dataDir: string, name: string): string | undefined {
  const rel = relativeSeriesPath(name);
  return rel === undefined ? undefined : join(dataDir, rel);
}

/** The dotted path graphite-web shows for a tagged series' file (`_tagged.abc.def.<hash>`). */
export function taggedTreePath(name: string): string {
  const h = sha256Hex(name);
  return `_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.${h}`;
}

/** the hash carbon names a tagged series' file after */
export function sha256Hex(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}
