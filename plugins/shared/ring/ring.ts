/**
 * Consistent-hash placement of series on destinations, bit-compatible with the relays operators
 * already run:
 * - `carbon_ch`: Python carbon's ConsistentHashRing (carbon 1.1.x, `RELAY_METHOD =
 *   consistent-hashing`): 100 replicas per (server, instance), positions from MD5, a colliding
 *   position bumped by one in insertion order, and DIVERSE_REPLICAS honoured.
 * - `fnv1a_ch`: carbon-c-relay's: 100 replicas keyed `i-host:port`, or `i-instance` when the member
 *   names an instance, ties on a position resolved by (host, port) with the first entry winning.
 * - `jump_fnv1a_ch`: carbon-c-relay's jump hash over FNV-1a 64; members with an instance come first
 *   (ordered by instance), then the others in configuration order; each further replica is chosen
 *   with a xorshifted key among the members not chosen yet.
 * Pure: no I/O, no module state. Placement depends on member order only where the originals' does.
 */
import { fnv1a64Parts, fnv1aPosition, jumpBucketParts, md5Position, xorshiftNext } from './hashes.js';

export type RingMethod = 'carbon_ch' | 'fnv1a_ch' | 'jump_fnv1a_ch';
export const RING_METHODS: readonly RingMethod[] = ['carbon_ch', 'fnv1a_ch', 'jump_fnv1a_ch'];

/** `distinct_hosts`: carbon's DIVERSE_REPLICAS (replicas on different servers); `ring_order`: off. */
export type ReplicaPlacement = 'distinct_hosts' | 'ring_order';

export interface RingMember {
  readonly host: string;
  readonly port: number;
  /** carbon's third DESTINATIONS field, carbon-c-relay's `=instance` */
  readonly instance?: string | undefined;
}

export interface RingOptions {
  readonly method: RingMethod;
  /** copies of each series; clamped to the number of members */
  readonly replication: number;
  /** only `carbon_ch` has this knob (carbon's DIVERSE_REPLICAS, default on); c-relay has none */
  readonly replicaPlacement?: ReplicaPlacement;
}

/** Replicas per member in both carbon and carbon-c-relay (hardwired in both). */
export const HASH_REPLICAS = 100;

/** `host:port[=instance]` (carbon-c-relay) or `host:port:instance` (carbon); `[v6]:port` too. */
export function parseMember(spec: string): RingMember {
  const s = spec.trim();
  let host: string;
  let rest: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']:');
    if (close < 0) throw new Error(`destination "${spec}": expected [host]:port`);
    host = s.slice(1, close);
    rest = s.slice(close + 2);
  } else {
    const colon = s.indexOf(':');
    if (colon <= 0) throw new Error(`destination "${spec}": expected host:port[=instance]`);
    host = s.slice(0, colon);
    rest = s.slice(colon + 1);
  }
  let instance: string | undefined;
  const sep = rest.search(/[=:]/);
  if (sep >= 0) {
    instance = rest.slice(sep + 1);
    rest = rest.slice(0, sep);
    if (instance === '') throw new Error(`destination "${spec}": empty instance`);
  }
  if (!/^\d+$/.test(rest) || Number(rest) < 1 || Number(rest) > 65535) {
    throw new Error(`destination "${spec}": port must be 1-65535`);
  }
  return instance === undefined ? { host, port: Number(rest) } : { host, port: Number(rest), instance };
}

/** The canonical text of a member, as `carbonado route` prints it. */
export function formatMember(m: RingMember): string {
  const host = m.host.includes(':') ? `[${m.host}]` : m.host;
  return m.instance === undefined ? `${host}:${m.port}` : `${host}:${m.port}=${m.instance}`;
}

/** Places names on members. `nodes` returns member indexes (into the array given to the ctor). */
export interface Ring {
  readonly members: readonly RingMember[];
  readonly replication: number;
  nodes(name: string): number[];
}

export function createRing(members: readonly RingMember[], opts: RingOptions): Ring {
  if (members.length === 0) throw new Error('a ring needs at least one destination');
  checkDistinct(members, opts.method);
  const replication = Math.max(1, Math.min(Math.floor(opts.replication), members.length));
  switch (opts.method) {
    case 'carbon_ch':
      return new CarbonRing(members, replication, opts.replicaPlacement ?? 'distinct_hosts');
    case 'fnv1a_ch':
      return new Fnv1aRing(members, replication);
    case 'jump_fnv1a_ch':
      return new JumpRing(members, replication);
  }
}

function checkDistinct(members: readonly RingMember[], method: RingMethod): void {
  const seen = new Set<string>();
  for (const m of members) {
    // carbon identifies a node by (server, instance); the c-relay rings by host:port
    const key = method === 'carbon_ch' ? `${m.host}\0${m.instance ?? ''}` : `${m.host}\0${m.port}`;
    if (seen.has(key)) {
      const what = method === 'carbon_ch' ? 'host and instance' : 'host and port';
      const hint = method === 'carbon_ch' ? ' (give each an instance, host:port=a, as carbon needs)' : '';
      throw new Error(`destination ${formatMember(m)} repeats another's ${what}: the ring could not tell them apart${hint}`);
    }
    seen.add(key);
  }
}

/** Python's repr() of a str, as `str((server, instance))` writes it (plain printable text assumed). */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`) + q;
}

/** First index whose position is >= pos, or positions.length. */
function bisectLeft(positions: Int32Array, pos: number): number {
  let lo = 0;
  let hi = positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid]! < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class CarbonRing implements Ring {
  private readonly positions: Int32Array;
  private readonly owners: Int32Array;

  constructor(
    readonly members: readonly RingMember[],
    readonly replication: number,
    private readonly placement: ReplicaPlacement,
  ) {
    // Insertion order matters: a colliding position is bumped past the ones already taken.
    const taken = new Set<number>();
    const entries: Array<[number, number]> = [];
    members.forEach((m, idx) => {
      const node = `(${pyRepr(m.host)}, ${m.instance === undefined ? 'None' : pyRepr(m.instance)})`;
      for (let i = 0; i < HASH_REPLICAS; i++) {
        let p = md5Position(`${node}:${i}`);
        while (taken.has(p)) p++;
        taken.add(p);
        entries.push([p, idx]);
      }
    });
    entries.sort((a, b) => a[0] - b[0]);
    this.positions = Int32Array.from(entries, (e) => e[0]);
    this.owners = Int32Array.from(entries, (e) => e[1]);
  }

  nodes(name: string): number[] {
    const len = this.positions.length;
    let index = bisectLeft(this.positions, md5Position(name)) % len;
    // carbon walks the ring once, stopping just before the entry it started from
    const last = (index - 1 + len) % len;
    const out: number[] = [];
    const usedHosts: string[] = [];
    while (out.length < this.replication && index !== last) {
      const owner = this.owners[index]!;
      if (!out.includes(owner)) {
        const host = this.members[owner]!.host;
        if (this.placement === 'ring_order') out.push(owner);
        else if (!usedHosts.includes(host)) {
          usedHosts.push(host);
          out.push(owner);
        }
      }
      index = (index + 1) % len;
    }
    // one member and replication 1: carbon's loop never runs when last === index
    if (out.length === 0) out.push(this.owners[index]!);
    return out;
  }
}

/** Byte-wise strcmp on UTF-8, as C compares the host strings. */
function strcmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

class Fnv1aRing implements Ring {
  private readonly positions: Int32Array;
  private readonly owners: Int32Array;

  constructor(
    readonly members: readonly RingMember[],
    readonly replication: number,
  ) {
    const entries: Array<[number, number]> = [];
    members.forEach((m, idx) => {
      for (let i = 0; i < HASH_REPLICAS; i++) {
        const key = m.instance === undefined ? `${i}-${m.host}:${m.port}` : `${i}-${m.instance}`;
        entries.push([fnv1aPosition(key), idx]);
      }
    });
    entries.sort((a, b) => {
      if (a[0] !== b[0]) return a[0] - b[0];
      const ma = members[a[1]]!;
      const mb = members[b[1]]!;
      return strcmp(ma.host, mb.host) || ma.port - mb.port;
    });
    // carbon-c-relay lets the first entry of a run of equal positions own them all
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]![0] === entries[i - 1]![0]) entries[i]![1] = entries[i - 1]![1];
    }
    this.positions = Int32Array.from(entries, (e) => e[0]);
    this.owners = Int32Array.from(entries, (e) => e[1]);
  }

  nodes(name: string): number[] {
    const len = this.positions.length;
    let t = bisectLeft(this.positions, fnv1aPosition(name)) % len;
    const out: number[] = [];
    // replication <= distinct members, so this ends: every member owns its first entry
    for (let steps = 0; out.length < this.replication && steps < len; steps++, t = (t + 1) % len) {
      const owner = this.owners[t]!;
      if (!out.includes(owner)) out.push(owner);
    }
    return out;
  }
}

/** strtol-style: the whole string is a base-10 integer (leading blanks and a sign allowed). */
function wholeInteger(s: string): number | undefined {
  if (s === '') return 0;
  return /^\s*[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : undefined;
}

class JumpRing implements Ring {
  /** member indexes in jump-bucket order */
  private readonly order: number[];

  constructor(
    readonly members: readonly RingMember[],
    readonly replication: number,
  ) {
    const idx = members.map((_, i) => i);
    // Array.prototype.sort is stable, so members without instance keep their config order.
    idx.sort((a, b) => {
      const ia = members[a]!.instance;
      const ib = members[b]!.instance;
      if (ia === undefined && ib === undefined) return a - b;
      if (ia === undefined) return 1;
      if (ib === undefined) return -1;
      const na = wholeInteger(ia);
      const nb = na === undefined ? undefined : wholeInteger(ib);
      if (na !== undefined && nb !== undefined) return na - nb;
      return strcmp(ia, ib);
    });
    this.order = idx;
  }

  nodes(name: string): number[] {
    let [hi, lo] = fnv1a64Parts(name);
    const first = this.order[jumpBucketParts(hi, lo, this.order.length)]!;
    if (this.replication === 1) return [first];
    // further replicas (rare): BigInt is fine here
    const buckets = this.order.slice();
    const out: number[] = [];
    let n = buckets.length;
    let hash = (BigInt(hi) << 32n) | BigInt(lo);
    for (;;) {
      const j = jumpBucketParts(hi, lo, n);
      out.push(buckets[j]!);
      if (out.length === this.replication) return out;
      hash = xorshiftNext(hash);
      hi = Number(hash >> 32n);
      lo = Number(hash & 0xffffffffn);
      // the chosen member leaves the list; the last one takes its bucket
      buckets[j] = buckets[--n]!;
    }
  }
}
