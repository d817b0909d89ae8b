/**
 * A small in-memory store with a tag index, for the /tags and seriesByTag tests (the fixture tree has
 * no tagged series, and graphite-web's anchor runs without a TagDB). Every series holds the same
 * minute-step ramp. Names are canonical tagged or plain names.
 */
import { compileTagQuery, definePlugin, isTagged, parseTags, type FindNode, type SeriesData, type StoreInstance, type TagQuery, type TagTerm } from '../../core/index.js';
import { expandBraces } from './fixture-store.js';

export class MemoryStore implements StoreInstance {
  readonly tags: TagQuery;

  constructor(
    private readonly names: readonly string[],
    /** fetches of names starting with `prefix` answer after `ms` (a request kept in progress) */
    private readonly slow?: { prefix: string; ms: number },
  ) {
    const tagged = names.filter(isTagged).map((n) => ({ name: n, ...parseTags(n) }));
    this.tags = {
      tagNames: async () => [...new Set(tagged.flatMap((t) => ['name', ...t.tags.keys()]))].sort(),
      tagValues: async (tag) => [...new Set(tagged.map((t) => (tag === 'name' ? t.metric : t.tags.get(tag))).filter((v): v is string => v !== undefined))].sort(),
      findTagged: async (terms: readonly TagTerm[]) => {
        const compiled = compileTagQuery(terms);
        return tagged.filter((t) => compiled.every((c) => c.matches(c.tag === 'name' ? t.metric : t.tags.get(c.tag)))).map((t) => t.name).sort();
      },
    };
  }

  /** a stopped store answers nothing, as whisper's does once its read threads are gone */
  private stopped = false;

  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.stopped = true;
  }
  write(): void {}

  async find(pattern: string): Promise<FindNode[]> {
    const out = new Map<string, FindNode>();
    for (const p of expandBraces(pattern)) {
      const re = new RegExp(`^${p.split('.').map((n) => n.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')).join('\\.')}$`);
      const depth = p.split('.').length;
      for (const name of this.names) {
        if (isTagged(name)) continue;
        const parts = name.split('.');
        if (parts.length < depth) continue;
        const prefix = parts.slice(0, depth).join('.');
        if (!re.test(prefix)) continue;
        const isLeaf = parts.length === depth;
        out.set(`${prefix}|${isLeaf}`, { path: prefix, isLeaf });
      }
    }
    return [...out.values()];
  }

  async fetch(names: readonly string[], from: number, until: number): Promise<SeriesData[]> {
    const slow = this.slow;
    if (slow && names.some((n) => n.startsWith(slow.prefix))) await new Promise((resolve) => setTimeout(resolve, slow.ms));
    if (this.stopped) return [];
    const step = 60;
    const start = from - (from % step) + step;
    const end = until - (until % step) + step;
    const n = (end - start) / step;
    return names.filter((x) => this.names.includes(x)).map((name) => ({
      name, start, end, step, values: Float64Array.from({ length: n }, (_, i) => (start / step + i) % 10),
    }));
  }
}

export const memoryStorePlugin = definePlugin<'store', { names: string[]; slow?: { prefix: string; ms: number } }>({
  kind: 'store',
  name: 'test_memory',
  since: '0.1.0',
  description: 'test only: in-memory series with a tag index',
  schema: {
    type: 'object',
    properties: {
      names: { type: 'array', items: { type: 'string' }, description: 'series' },
      slow: { type: 'object', properties: { prefix: { type: 'string' }, ms: { type: 'integer' } }, required: ['prefix', 'ms'], additionalProperties: false, description: 'slow fetches' },
    },
    required: ['names'],
    additionalProperties: false,
  },
  create: (_ctx, o) => new MemoryStore(o.names, o.slow),
});
