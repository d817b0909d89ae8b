/**
 * Series names exactly as Etsy's graphite backend (backends/graphite.js) writes them
 * (protocols.md §3.4): namespace nodes, the key, the sub-metric, then globalSuffix, then the key's
 * tags. Legacy layout by default.
 */
import type { StatsdAggregatorOptions } from './options.js';

export type NamingOptions = Pick<
  StatsdAggregatorOptions,
  'namespace' | 'globalPrefix' | 'prefixCounter' | 'prefixTimer' | 'prefixGauge' | 'prefixSet' | 'globalSuffix' | 'prefixStats'
>;

export class GraphiteNamer {
  private readonly global: string[];
  private readonly counter: string[];
  private readonly counterCount: string[];
  private readonly timer: string[];
  private readonly gauge: string[];
  private readonly set: string[];
  private readonly suffix: string;
  /** the namespaces joined once: names are built per point on every flush */
  private readonly heads = new Map<readonly string[], string>();
  readonly legacy: boolean;

  constructor(private readonly o: NamingOptions) {
    this.legacy = o.namespace === 'legacy';
    this.suffix = o.globalSuffix === '' ? '' : `.${o.globalSuffix}`;
    if (this.legacy) {
      this.global = ['stats'];
      this.counter = ['stats'];
      this.counterCount = ['stats_counts'];
      this.timer = ['stats', 'timers'];
      this.gauge = ['stats', 'gauges'];
      this.set = ['stats', 'sets'];
    } else {
      const g = o.globalPrefix === '' ? [] : [o.globalPrefix];
      const with_ = (p: string) => (p === '' ? [...g] : [...g, p]);
      this.global = g;
      this.counter = with_(o.prefixCounter);
      this.counterCount = this.counter;
      this.timer = with_(o.prefixTimer);
      this.gauge = with_(o.prefixGauge);
      this.set = with_(o.prefixSet);
    }
  }

  counterRate(key: string): string {
    return this.legacy ? this.format(this.counter, key) : this.format(this.counter, key, 'rate');
  }

  counterCountName(key: string): string {
    return this.legacy ? this.format(this.counterCount, key) : this.format(this.counterCount, key, 'count');
  }

  /** `stat` may hold dots (`histogram.bin_10`). */
  timerStat(key: string, stat: string): string {
    return this.format(this.timer, key, stat);
  }

  /** Names of one timer's sub-metrics: splits the key once for its ~20 stats. */
  timerNames(key: string): (stat: string) => string {
    const semi = key.indexOf(';');
    const name = semi < 0 ? key : key.slice(0, semi);
    const tail = semi < 0 ? this.suffix : this.suffix + key.slice(semi);
    const head = `${this.head(this.timer)}${name}.`;
    return (stat) => head + stat + tail;
  }

  gaugeName(key: string): string {
    return this.format(this.gauge, key);
  }

  setCount(key: string): string {
    return this.format(this.set, key, 'count');
  }

  /** `statsd.numStats` in legacy mode (no `stats.` in front: Etsy's quirk), else under globalPrefix. */
  numStats(): string {
    return this.legacy ? `${this.o.prefixStats}.numStats${this.suffix}` : this.format(this.global, this.o.prefixStats, 'numStats');
  }

  /** the aggregator's own timing metrics (Etsy's statsd_metrics: processing_time) */
  statsdMetric(name: string): string {
    return this.legacy ? `stats.${this.o.prefixStats}.${name}${this.suffix}` : this.format(this.global, this.o.prefixStats, name);
  }

  /** namespace + name part of the key + extra, then the suffix, then the key's tags. */
  private format(ns: readonly string[], key: string, extra?: string): string {
    const semi = key.indexOf(';');
    const name = semi < 0 ? key : key.slice(0, semi);
    const tags = semi < 0 ? '' : key.slice(semi);
    let out = this.head(ns) + name;
    if (extra !== undefined) out += `.${extra}`;
    return out + this.suffix + tags;
  }

  /** `a.b.` for namespace [a, b]; '' for none. */
  private head(ns: readonly string[]): string {
    let h = this.heads.get(ns);
    if (h === undefined) {
      h = ns.length === 0 ? '' : `${ns.join('.')}.`;
      this.heads.set(ns, h);
    }
    return h;
  }
}
