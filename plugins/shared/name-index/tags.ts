import { codePointCompare, compileTagQuery, parseTags, type TagQuery, type TagTerm } from '../../../core/index.js';

/**
 * The tag index behind seriesByTag and /tags: for every tag, value → series. Every series is
 * indexed under `name` (its dotted part), untagged ones too, as carbon registers every series
 * with graphite-web's tag database when tags are enabled; so `seriesByTag('name=a.b')` finds a
 * plain `a.b`.
 */
export class TagIndex implements TagQuery {
  private readonly byTag = new Map<string, Map<string, Set<string>>>();
  private readonly series = new Set<string>();

  get size(): number {
    return this.series.size;
  }

  add(series: string): boolean {
    if (this.series.has(series)) return false;
    this.series.add(series);
    for (const [tag, value] of tagsOf(series)) {
      let values = this.byTag.get(tag);
      if (!values) this.byTag.set(tag, (values = new Map()));
      let set = values.get(value);
      if (!set) values.set(value, (set = new Set()));
      set.add(series);
    }
    return true;
  }

  delete(series: string): boolean {
    if (!this.series.delete(series)) return false;
    for (const [tag, value] of tagsOf(series)) {
      const values = this.byTag.get(tag);
      const set = values?.get(value);
      set?.delete(series);
      if (set && set.size === 0) values!.delete(value);
      if (values && values.size === 0) this.byTag.delete(tag);
    }
    return true;
  }

  async tagNames(): Promise<string[]> {
    return [...this.byTag.keys()].sort(codePointCompare);
  }

  async tagValues(tag: string): Promise<string[]> {
    return [...(this.byTag.get(tag)?.keys() ?? [])].sort(codePointCompare);
  }

  async findTagged(terms: readonly TagTerm[]): Promise<string[]> {
    return this.findTaggedSync(terms);
  }

  /** Throws TagExpressionError for invalid terms (the output turns it into a 400). */
  findTaggedSync(terms: readonly TagTerm[]): string[] {
    const compiled = compileTagQuery(terms);
    // Candidates come from the most selective kind of term: an exact `=`, else any term that
    // does not match series lacking its tag (its tag must be present).
    const seed = compiled.find((t) => t.op === '=' && !t.matchesEmpty) ?? compiled.find((t) => !t.matchesEmpty)!;
    const values = this.byTag.get(seed.tag);
    if (!values) return [];
    let candidates: Iterable<string>;
    if (seed.op === '=') candidates = values.get(seed.value) ?? [];
    else {
      const acc: string[] = [];
      for (const [v, set] of values) if (seed.matches(v)) for (const s of set) acc.push(s);
      candidates = acc;
    }
    const out: string[] = [];
    for (const s of candidates) {
      const tags = tagsOf(s);
      if (compiled.every((t) => t.matches(tags.get(t.tag)))) out.push(s);
    }
    return out.sort(codePointCompare);
  }
}

function tagsOf(series: string): Map<string, string> {
  const { metric, tags } = parseTags(series);
  tags.set('name', metric);
  return tags;
}
