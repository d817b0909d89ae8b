import { isBadName, normalizeSeriesName, type BadName } from './metric-name.js';

/**
 * Remembers validated names: a hit skips validation and returns one flat, shared string.
 * Why: parsers slice names out of large chunk strings, and V8 keeps such a slice pointing at its
 * whole parent chunk, so a store that kept the slice as a map key would pin every chunk that
 * introduced a series. The cache stores a flat copy once per distinct name and hands that out;
 * the slice used for the lookup dies young. (A hand-written open-addressing table that avoided
 * the slice measured no faster than V8's Map.) Bounded: when full it starts over.
 */
export class NameCache {
  private map = new Map<string, string>();

  constructor(private readonly maxEntries = 1 << 20) {}

  get size(): number {
    return this.map.size;
  }

  /** canonical flat name, or why the raw name is refused */
  resolve(raw: string): string | BadName {
    const hit = this.map.get(raw);
    if (hit !== undefined) return hit;
    const norm = normalizeSeriesName(raw);
    if (isBadName(norm)) return norm;
    const flat = flatCopy(norm);
    if (this.map.size >= this.maxEntries) this.map = new Map();
    this.map.set(raw === norm ? flat : flatCopy(raw), flat);
    return flat;
  }

  /** resolve(text.slice(start, end)) */
  resolveRegion(text: string, start: number, end: number): string | BadName {
    return this.resolve(text.slice(start, end));
  }
}

/** A string that shares no memory with a larger parent string. */
export function flatCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
