import { normalizeSeriesName, type BadName } from '../../../core/index.js';
import type { ExpositionSample } from './exposition.js';

/**
 * Prometheus series → Graphite tagged name: `<prefix.>metric;label=value;...`, labels sorted (the
 * canonical form normalizeSeriesName produces). What Graphite cannot hold is rewritten, not refused:
 * `:` in metric names becomes `_` (recording-rule names); label values lose `;`, whitespace and
 * control characters (→ `_`) and a leading `~`; an empty value drops the label, which is what an
 * empty label means to Prometheus; a label called `name` (Graphite's own tag) becomes `exported_name`.
 */
export function graphiteName(prefix: string, s: ExpositionSample): string | BadName {
  let raw = prefix + s.name.replace(/:/g, '_');
  for (const [k, v] of s.labels) {
    if (v === '') continue;
    const key = k === 'name' ? 'exported_name' : k;
    raw += `;${key}=${v.replace(/[;\s\x00-\x1f\x7f]/g, '_').replace(/^~/, '_')}`;
  }
  return normalizeSeriesName(raw);
}

/**
 * Memoises graphiteName per exposed series, so a steady scrape does the rewriting once per series.
 * Bounded: past `max` entries it starts over (a high-churn exporter costs CPU, never memory).
 */
export class NameCache {
  private readonly map = new Map<string, string | BadName>();

  constructor(
    private readonly prefix: string,
    private readonly max = 100_000,
  ) {}

  get(s: ExpositionSample): string | BadName {
    let key = s.name;
    for (const [k, v] of s.labels) key += `\u0000${k}\u0001${v}`;
    let n = this.map.get(key);
    if (n === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      n = graphiteName(this.prefix, s);
      this.map.set(key, n);
    }
    return n;
  }
}

