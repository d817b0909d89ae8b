import { isBadName, normalizeSeriesName, type BadName } from './metric-name.js';

/**
 * Remembers validated names. A hit skips validation and returns one flat, shared string, and the
 * lookup by region (`resolveRegion`) allocates nothing: parsers find the name inside their chunk
 * string without slicing it. Why it matters: at millions of lines per second the per-line
 * substring and its garbage collection cost more than the parsing itself, and V8 keeps a slice
 * pointing at its whole parent chunk, so a store keeping slices as map keys would pin every chunk
 * that introduced a series. Bounded: when full it starts over (names are simply revalidated).
 */
export class NameCache {
  private hashes: Int32Array;
  private keys: (string | undefined)[];
  private values: (string | undefined)[];
  private mask: number;
  private count = 0;

  constructor(private readonly maxEntries = 1 << 20) {
    const cap = 1 << 12;
    this.hashes = new Int32Array(cap);
    this.keys = new Array<string | undefined>(cap);
    this.values = new Array<string | undefined>(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** canonical flat name, or why the raw name is refused */
  resolve(raw: string): string | BadName {
    return this.resolveRegion(raw, 0, raw.length);
  }

  /** Same as resolve(text.slice(start, end)), without the slice when the name is known. */
  resolveRegion(text: string, start: number, end: number): string | BadName {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const len = end - start;
    let slot = h & this.mask;
    for (;;) {
      const k = this.keys[slot];
      if (k === undefined) break;
      if (this.hashes[slot] === h && k.length === len && sameRegion(k, text, start)) return this.values[slot]!;
      slot = (slot + 1) & this.mask;
    }
    const raw = text.slice(start, end);
    const norm = normalizeSeriesName(raw);
    if (isBadName(norm)) return norm;
    const flat = flatCopy(norm);
    this.insert(h, raw === norm ? flat : flatCopy(raw), flat);
    return flat;
  }

  private insert(h: number, key: string, value: string): void {
    if (this.count >= this.maxEntries) this.reset(1 << 12);
    else if ((this.count + 1) * 2 > this.keys.length) this.grow();
    let slot = h & this.mask;
    while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
    this.hashes[slot] = h;
    this.keys[slot] = key;
    this.values[slot] = value;
    this.count++;
  }

  private grow(): void {
    const { hashes, keys, values } = this;
    this.reset(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === undefined) continue;
      let slot = hashes[i]! & this.mask;
      while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
      this.hashes[slot] = hashes[i]!;
      this.keys[slot] = keys[i];
      this.values[slot] = values[i];
      this.count++;
    }
  }

  private reset(cap: number): void {
    this.hashes = new Int32Array(cap);
    this.keys = new Array<string | undefined>(cap);
    this.values = new Array<string | undefined>(cap);
    this.mask = cap - 1;
    this.count = 0;
  }
}

function sameRegion(k: string, text: string, start: number): boolean {
  for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}

/** A string that shares no memory with a larger parent string. */
export function flatCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
