/**
 * Where a series goes: rules first (in order, carbon-c-relay's `match … send to … [stop]` in
 * spirit), then the ring. Pure and synchronous, shared by the store and `carbonado route`.
 * Placements are cached per name: hashing costs microseconds, a Map lookup nanoseconds, and a
 * relay sees the same names every interval.
 */
import { createRing, formatMember, parseMember, type Ring, type RingMember } from '../../shared/ring/ring.js';
import type { CarbonRelayOptions } from './options.js';

/** `undefined` placement reasons, counted as drops by the store. */
export type NoRoute = 'rule_drop' | 'no_route';

interface CompiledRule {
  readonly re: RegExp;
  readonly action: 'send' | 'drop';
  readonly ring: Ring | undefined;
  /** ring member index → relay destination index */
  readonly map: readonly number[];
  readonly stop: boolean;
}

export class Router {
  readonly members: readonly RingMember[];
  private readonly ring: Ring;
  private readonly rules: CompiledRule[];
  private readonly cache = new Map<string, readonly number[] | NoRoute>();

  constructor(private readonly o: Pick<CarbonRelayOptions, 'destinations' | 'method' | 'replication' | 'replicaPlacement' | 'rules' | 'unmatched' | 'routeCacheEntries'>) {
    this.members = o.destinations.map(parseMember);
    const ringOpts = { method: o.method, replication: o.replication, replicaPlacement: o.replicaPlacement };
    this.ring = createRing(this.members, ringOpts);
    const keys = this.members.map(formatMember);
    this.rules = o.rules.map((r, i) => {
      let re: RegExp;
      try {
        re = new RegExp(r.match);
      } catch (err) {
        throw new Error(`rules[${i}].match: ${(err as Error).message}`);
      }
      if (r.action === 'drop' || r.destinations.length === 0) {
        return { re, action: r.action, ring: r.action === 'drop' ? undefined : this.ring, map: this.members.map((_, j) => j), stop: r.then === 'stop' };
      }
      const map = r.destinations.map((d) => {
        const j = keys.indexOf(formatMember(parseMember(d)));
        if (j < 0) throw new Error(`rules[${i}].destinations: ${d} is not one of the relay's destinations`);
        return j;
      });
      const sub = createRing(map.map((j) => this.members[j]!), ringOpts);
      return { re, action: 'send' as const, ring: sub, map, stop: r.then === 'stop' };
    });
  }

  /** Destination indexes for a name (deduplicated, in ring order), or why it goes nowhere. */
  route(name: string): readonly number[] | NoRoute {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const placed = this.compute(name);
    if (this.o.routeCacheEntries > 0) {
      // crude but bounded: start over rather than track recency per lookup
      if (this.cache.size >= this.o.routeCacheEntries) this.cache.clear();
      this.cache.set(name, placed);
    }
    return placed;
  }

  private compute(name: string): readonly number[] | NoRoute {
    if (this.rules.length === 0) return this.ring.nodes(name);
    const out: number[] = [];
    let matched = false;
    for (const r of this.rules) {
      if (!r.re.test(name)) continue;
      matched = true;
      if (r.action === 'drop') return out.length > 0 ? out : 'rule_drop';
      for (const k of r.ring!.nodes(name)) {
        const j = r.map[k]!;
        if (!out.includes(j)) out.push(j);
      }
      if (r.stop) break;
    }
    if (out.length > 0) return out;
    if (!matched && this.o.unmatched === 'ring') return this.ring.nodes(name);
    return 'no_route';
  }
}
