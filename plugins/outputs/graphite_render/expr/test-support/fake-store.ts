/**
 * An in-memory QueryStore for the evaluator's unit tests (the real stores are tested against
 * real files elsewhere). Slicing follows Whisper's fetch: slots in (from, until], end exclusive.
 */
import type { EventQuery, EventRecord, EventStore, FindNode, QueryStore, SeriesData, TagQuery, TagTerm } from '../../../../../core/index.js';
import { compileTagQuery, parseTags } from '../../../../../core/index.js';

export interface FixtureSeries {
  name: string;
  start: number;
  step: number;
  /** null = no data */
  values: (number | null)[];
}

/** Graphite glob for one pattern node → RegExp source */
export function globNode(node: string): string {
  let out = '';
  for (let i = 0; i < node.length; i++) {
    const c = node[i]!;
    if (c === '*') out += '[^.]*';
    else if (c === '?') out += '[^.]';
    else if (c === '[') {
      const close = node.indexOf(']', i + 1);
      if (close < 0) out += '\\[';
      else {
        const body = node.slice(i + 1, close);
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else if (c === '{') {
      const close = node.indexOf('}', i + 1);
      const alts = node.slice(i + 1, close).split(',').map((a) => globNode(a));
      out += `(?:${alts.join('|')})`;
      i = close;
    } else out += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return out;
}

export function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${splitPattern(pattern).map(globNode).join('\\.')}$`);
}

/** splits on dots outside {..} */
function splitPattern(p: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of p) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === '.' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export class FakeStore implements QueryStore {
  readonly series = new Map<string, FixtureSeries>();
  readonly tags: TagQuery;
  readonly events: EventStore | undefined;
  fetchCalls = 0;

  constructor(fixtures: readonly FixtureSeries[], events: EventRecord[] = []) {
    for (const f of fixtures) this.series.set(f.name, f);
    const names = (): string[] => [...this.series.keys()].filter((n) => n.includes(';'));
    this.tags = {
      tagNames: async () => [...new Set(names().flatMap((n) => ['name', ...parseTags(n).tags.keys()]))].sort(),
      tagValues: async (tag) => [...new Set(names().map((n) => (tag === 'name' ? parseTags(n).metric : parseTags(n).tags.get(tag))).filter((v): v is string => v !== undefined))].sort(),
      findTagged: async (terms: readonly TagTerm[]) => {
        const compiled = compileTagQuery(terms);
        return names()
          .filter((n) => {
            const { metric, tags } = parseTags(n);
            return compiled.every((t) => t.matches(t.tag === 'name' ? metric : tags.get(t.tag)));
          })
          .sort();
      },
    };
    this.events =
      events.length === 0
        ? undefined
        : {
            addEvent: async () => {
              throw new Error('read-only');
            },
            getEvent: async (id) => events.find((e) => e.id === id),
            deleteEvent: async () => false,
            queryEvents: async (q: EventQuery) =>
              events.filter((e) => e.when >= q.from && e.when <= q.until && (!q.tags || q.tags.every((t) => e.tags.includes(t)))),
          };
  }

  async find(pattern: string): Promise<FindNode[]> {
    const depth = splitPattern(pattern).length;
    const re = globRegExp(pattern);
    const out = new Map<string, FindNode>();
    for (const name of this.series.keys()) {
      if (name.includes(';')) continue;
      const nodes = name.split('.');
      if (nodes.length < depth) continue;
      const prefix = nodes.slice(0, depth).join('.');
      if (!re.test(prefix)) continue;
      const isLeaf = nodes.length === depth;
      out.set(`${prefix}:${isLeaf}`, { path: prefix, isLeaf });
    }
    return [...out.values()];
  }

  async fetch(names: readonly string[], from: number, until: number): Promise<SeriesData[]> {
    this.fetchCalls++;
    const out: SeriesData[] = [];
    for (const name of names) {
      const f = this.series.get(name);
      if (!f) continue;
      const step = f.step;
      const start = from - (from % step) + step;
      const end = until - (until % step) + step;
      const n = Math.max(0, (end - start) / step);
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const idx = (start + i * step - f.start) / step;
        const v = idx >= 0 && idx < f.values.length ? f.values[idx] : null;
        values[i] = v === null || v === undefined ? NaN : v;
      }
      out.push({ name, start, end, step, values });
    }
    return out;
  }
}
