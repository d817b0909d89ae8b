import { createHash } from 'node:crypto';
import { join, sep } from 'node:path';
import { checkMetricPath, isTagged } from '../../../core/index.js';

/**
 * Where a series lives, as carbon and graphite-web compute it (§1.8): `a.b.c` → `a/b/c.wsp`;
 * tagged `name;k=v` → `_tagged/<h[0:3]>/<h[3:6]>/<h>.wsp`, h = sha256 of the canonical name.
 * Names reach here validated (no empty node, no `/`, `\` or NUL), so no path can leave dataDir;
 * the check below is the second line of defence and costs one scan per new series.
 */
export function relativeSeriesPath(name: string): string | undefined {
  if (isTagged(name)) {
    const h = createHash('sha256').update(name, 'utf8').digest('hex');
    return `_tagged${sep}${h.slice(0, 3)}${sep}${h.slice(3, 6)}${sep}${h}.wsp`;
  }
  if (checkMetricPath(name)) return undefined;
  return `${name.split('.').join(sep)}.wsp`;
}

export function seriesPath(dataDir: string, name: string): string | undefined {
  const rel = relativeSeriesPath(name);
  return rel === undefined ? undefined : join(dataDir, rel);
}

/** The dotted path graphite-web shows for a tagged series' file (`_tagged.abc.def.<hash>`). */
export function taggedTreePath(name: string): string {
  const h = createHash('sha256').update(name, 'utf8').digest('hex');
  return `_tagged.${h.slice(0, 3)}.${h.slice(3, 6)}.${h}`;
}
