/**
 * A read-only whisper reader used as a store plugin in graphite_render's tests, so the HTTP layer can be
 * tested on real .wsp files (written by Debian's python3-whisper) independently of the whisper store
 * plugin. It follows whisper 1.1.4's fetch() (archive chosen by `from`, (from, until] slots, `now`
 * honoured) and graphite-web's standard finder (fnmatch per node, braces expanded, hidden entries skipped).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, type FindNode, type QueryStore, type SeriesData, type StoreInstance } from '../../core/index.js';

const AGG = ['', 'average', 'sum', 'last', 'max', 'min', 'avg_zero', 'absmax', 'absmin'];

interface Archive { offset: number; step: number; points: number }

export function whisperFetch(file: string, fromTime: number, untilTime: number, now: number): Omit<SeriesData, 'name'> | undefined {
  const buf = readFileSync(file);
  const agg = buf.readUInt32BE(0);
  const maxRetention = buf.readUInt32BE(4);
  const xff = buf.readFloatBE(8);
  const count = buf.readUInt32BE(12);
  const archives: Archive[] = [];
  for (let i = 0; i < count; i++) {
    const o = 16 + i * 12;
    archives.push({ offset: buf.readUInt32BE(o), step: buf.readUInt32BE(o + 4), points: buf.readUInt32BE(o + 8) });
  }
  let from = Math.trunc(fromTime);
  let until = Math.trunc(untilTime);
  const oldest = now - maxRetention;
  if (from > now || until < oldest) return undefined;
  if (from < oldest) from = oldest;
  if (until > now) until = now;
  const diff = now - from;
  let archive = archives[archives.length - 1]!;
  for (const a of archives) if (a.step * a.points >= diff) { archive = a; break; }
  const step = archive.step;
  const fromI = from - pyMod(from, step) + step;
  let untilI = until - pyMod(until, step) + step;
  if (fromI === untilI) untilI += step;
  const n = (untilI - fromI) / step;
  const values = new Float64Array(n).fill(NaN);
  const base = buf.readUInt32BE(archive.offset);
  if (base !== 0) {
    for (let i = 0; i < n; i++) {
      const t = fromI + i * step;
      const slot = pyMod((t - base) / step, archive.points);
      const o = archive.offset + slot * 12;
      if (buf.readUInt32BE(o) === t) values[i] = buf.readDoubleBE(o + 4);
    }
  }
  return { start: fromI, end: untilI, step, values, consolidation: AGG[agg] ?? 'average', xFilesFactor: xff };
}

function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** `{a,b}` expanded (nested braces too), then fnmatch per node. */
export function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  const out = new Set<string>();
  for (const alt of m[1]!.split(',')) for (const e of expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length))) out.add(e);
  return [...out];
}

function fnmatch(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = pattern.indexOf(']', i + 2);
      if (j < 0) { re += '\\['; continue; }
      let body = pattern.slice(i + 1, j);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = j;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export class FixtureStore implements StoreInstance {
  constructor(private readonly dir: string, private readonly clock: () => number) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  write(): void {}

  async find(pattern: string): Promise<FindNode[]> {
    const out = new Map<string, FindNode>();
    for (const variant of expandBraces(pattern)) {
      const nodes = variant.split('.');
      let dirs = [{ fs: this.dir, path: '' }];
      for (let i = 0; i < nodes.length; i++) {
        const re = fnmatch(nodes[i]!);
        const last = i === nodes.length - 1;
        const next: typeof dirs = [];
        for (const d of dirs) {
          let entries: string[];
          try { entries = readdirSync(d.fs).sort(); } catch { continue; }
          for (const e of entries) {
            if (e.startsWith('.')) continue;
            const fs = join(d.fs, e);
            const isDir = statSync(fs).isDirectory();
            const name = isDir ? e : e.endsWith('.wsp') ? e.slice(0, -4) : undefined;
            if (name === undefined || !re.test(name)) continue;
            const path = d.path ? `${d.path}.${name}` : name;
            if (!last) { if (isDir) next.push({ fs, path }); continue; }
            out.set(`${path}|${!isDir}`, { path, isLeaf: !isDir });
          }
        }
        dirs = next;
      }
    }
    return [...out.values()];
  }

  async fetch(names: readonly string[], from: number, until: number, opts?: { now?: number }): Promise<SeriesData[]> {
    const now = Math.trunc(opts?.now ?? this.clock());
    const out: SeriesData[] = [];
    for (const name of names) {
      const file = join(this.dir, ...name.split('.')) + '.wsp';
      try {
        const r = whisperFetch(file, from, until, now);
        if (r) out.push({ name, ...r });
      } catch {
        // missing or unreadable: omitted, as the contract says
      }
    }
    return out;
  }
}

export const fixtureStorePlugin = definePlugin<'store', { dir: string }>({
  kind: 'store',
  name: 'test_whisper_reader',
  since: '0.1.0',
  description: 'test only: read-only whisper tree',
  schema: { type: 'object', properties: { dir: { type: 'string', description: 'root' } }, required: ['dir'], additionalProperties: false },
  create: (ctx, o) => new FixtureStore(o.dir, () => ctx.now()),
});
