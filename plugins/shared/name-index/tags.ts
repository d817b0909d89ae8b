import { codePointCompare, compileTagQuery, isTagged, parseTags, runWithTimeLimit, type TagQuery, type TagTerm } from '../../../core/index.js';

/**
 * The tag index behind seriesByTag and /tags: for every tag, value → series. Every series is
 * indexed under `name` (its dotted part), untagged ones too, as carbon registers every series
 * with graphite-web's tag database when tags are enabled; so `seriesByTag('name=a.b')` finds a
 * plain `a.b`. A plain series is its own `name` value, so it is held only in `series`: a set per
 * plain name under `name` cost ~110 bytes and 5 µs per series (a million series: 110 MB, 5 s).
 */
export class TagIndex implements TagQuery {
  /**
   * tagged series only, by tag and value: the one series that has the value, or a set once two
   * do (a value per series, such as a pod name, cost a set each: ~300 MB per million series)
   */
  private readonly byTag = new Map<string, Map<string, Members>>();
  private readonly series = new Set<string>();
  private plain = 0;

  get size(): number {
    return this.series.size;
  }

  add(series: string): boolean {
    if (this.series.has(series)) return false;
    this.series.add(series);
    if (!isTagged(series)) {
      this.plain++;
      return true;
    }
    for (const [tag, value] of tagsOf(series)) {
      let values = this.byTag.get(tag);
      if (!values) this.byTag.set(tag, (values = new Map()));
      const m = values.get(value);
      if (m === undefined) values.set(value, series);
      else if (typeof m === 'string') values.set(value, new Set([m, series]));
      else m.add(series);
    }
    return true;
  }

  delete(series: string): boolean {
    if (!this.series.delete(series)) return false;
    if (!isTagged(series)) {
      this.plain--;
      return true;
    }
    for (const [tag, value] of tagsOf(series)) {
      const values = this.byTag.get(tag);
      const m = values?.get(value);
      if (!values || m === undefined) continue;
      if (m === series) values.delete(value);
      else if (typeof m !== 'string') {
        m.delete(series);
        if (m.size === 1) values.set(value, m.values().next().value!);
      }
      if (values.size === 0) this.byTag.delete(tag);
    }
    return true;
  }

  async tagNames(): Promise<string[]> {
    const names = [...this.byTag.keys()];
    if (this.plain > 0 && !this.byTag.has('name')) names.push('name');
    return names.sort(codePointCompare);
  }

  async tagValues(tag: string, opts?: { readonly prefix?: string; readonly limit?: number }): Promise<string[]> {
    const prefix = opts?.prefix ?? '';
    const limit = opts?.limit ?? Number.POSITIVE_INFINITY;
    const values = new FirstSorted(limit);
    for (const v of this.byTag.get(tag)?.keys() ?? []) if (v.startsWith(prefix)) values.add(v);
    if (tag === 'name' && this.plain > 0) for (const s of this.series) if (s.startsWith(prefix) && !isTagged(s)) values.add(s);
    return values.sorted();
  }

  async tagValueCounts(tag: string): Promise<ReadonlyMap<string, number>> {
    const counts = new Map<string, number>();
    for (const [value, m] of this.byTag.get(tag) ?? []) counts.set(value, typeof m === 'string' ? 1 : m.size);
    if (tag === 'name' && this.plain > 0) for (const s of this.series) if (!isTagged(s)) counts.set(s, (counts.get(s) ?? 0) + 1);
    return counts;
  }

  async findTagged(terms: readonly TagTerm[], opts?: { readonly limit?: number }): Promise<string[]> {
    return this.findTaggedSync(terms, opts?.limit);
  }

  /**
   * Throws TagExpressionError for invalid terms (the output turns it into a 400). Past `limit`
   * matches it stops, returning `limit + 1` of them (the caller refuses them).
   */
  findTaggedSync(terms: readonly TagTerm[], limit = Number.POSITIVE_INFINITY): string[] {
    const compiled = compileTagQuery(terms);
    // Candidates come from the most selective kind of term: an exact `=`, else any term that
    // does not match series lacking its tag (its tag must be present).
    const seed = compiled.find((t) => t.op === '=' && !t.matchesEmpty) ?? compiled.find((t) => !t.matchesEmpty)!;
    const values = this.byTag.get(seed.tag);
    const out: string[] = [];
    /** true once past the limit */
    const consider = (s: string): boolean => {
      const tags = tagsOf(s);
      if (compiled.every((t) => t.matches(tags.get(t.tag)))) out.push(s);
      return out.length > limit;
    };
    // regexes of the terms run over many values: bounded (see runWithTimeLimit)
    runWithTimeLimit('a tag expression', () => {
      find: {
        if (seed.op === '=') {
          const m = values?.get(seed.value);
          if (typeof m === 'string') consider(m);
          else if (m) for (const s of m) if (consider(s)) break find;
        } else if (values) {
          for (const [v, m] of values) {
            if (!seed.matches(v)) continue;
            if (typeof m === 'string') {
              if (consider(m)) break find;
            } else for (const s of m) if (consider(s)) break find;
          }
        }
        if (seed.tag === 'name' && this.plain > 0) {
          if (seed.op === '=') {
            if (!isTagged(seed.value) && this.series.has(seed.value)) consider(seed.value);
          } else for (const s of this.series) if (!isTagged(s) && seed.matches(s) && consider(s)) break find;
        }
      }
    });
    return out.sort(codePointCompare);
  }
}

type Members = string | Set<string>;

/**
 * The first `limit` distinct strings added, in code point order. With a limit it keeps a sorted
 * buffer of at most `limit` entries, which most strings are compared with once, rather than
 * sorting them all (a million names: ~1 s on the event loop before, ~0.2 s now).
 */
export class FirstSorted {
  private readonly best: string[] = [];
  private readonly all: Set<string> | undefined;

  constructor(private readonly limit: number) {
    // without a useful bound, a sort at the end is cheaper than insertions into a long buffer
    if (!(limit < 1000)) this.all = new Set();
  }

  add(v: string): void {
    if (this.all) {
      this.all.add(v);
      return;
    }
    const best = this.best;
    const limit = this.limit;
    if (best.length >= limit && (limit < 1 || codePointCompare(v, best[limit - 1]!) >= 0)) return;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (codePointCompare(best[mid]!, v) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (best[lo] === v) return;
    best.splice(lo, 0, v);
    if (best.length > limit) best.pop();
  }

  sorted(): string[] {
    if (!this.all) return this.best.slice();
    const out = [...this.all].sort(codePointCompare);
    return Number.isFinite(this.limit) ? out.slice(0, this.limit) : out;
  }
}

function tagsOf(series: string): Map<string, string> {
  const { metric, tags } = parseTags(series);
  tags.set('name', metric);
  return tags;
}
