/**
 * The write-back cache: accepted points grouped per series until the persister writes them.
 * Points a persister has taken stay visible (`inflight`) until they are on disk, so a query
 * never misses a point in the gap (go-carbon's notConfirmed idea).
 */
/** A new entry's room, in points: a series with one point per pass never grows. */
const FIRST_CAPACITY = 8;
/** Elements (times and values together) a pool keeps for reuse at most: 128 MB. */
export const POOL_MAX_ELEMENTS = 1 << 24;
/** Elements of one slab new arrays are cut from (64 KiB). */
const SLAB_ELEMENTS = 8192;
/** The largest first size of an entry, in points (larger entries grow as before). */
const MAX_HINT = 4096;

/**
 * Typed arrays of entries the persister has written, kept by size for the next entries. Why:
 * creating a typed array with its own backing store costs about a microsecond (an allocation
 * outside the heap plus V8's bookkeeping for it), and under a steady load every series grows an
 * entry from a few points to a pass's worth each pass: without reuse that was ~1 s of the large
 * load's event-loop time.
 */
export class ArrayPool {
  /** free arrays by log2 of their length */
  private readonly free: Float64Array[][] = [];
  private held = 0;
  /**
   * where new arrays are carved from; a slab's memory goes when its last array does (arrays
   * are reused through the pool, so few are ever dropped)
   */
  private slab = new ArrayBuffer(0);
  private slabUsed = SLAB_ELEMENTS;

  constructor(private readonly maxElements = POOL_MAX_ELEMENTS) {}

  /** An array of exactly `capacity` elements (a power of two), contents undefined. */
  take(capacity: number): Float64Array {
    const list = this.free[Math.log2(capacity)];
    const a = list?.pop();
    if (a !== undefined) {
      this.held -= capacity;
      return a;
    }
    if (capacity <= FIRST_CAPACITY || capacity > SLAB_ELEMENTS / 4) return new Float64Array(capacity);
    // a view of a shared slab costs a quarter of an array with its own backing store
    if (this.slabUsed + capacity > SLAB_ELEMENTS) {
      this.slab = new ArrayBuffer(SLAB_ELEMENTS * 8);
      this.slabUsed = 0;
    }
    const view = new Float64Array(this.slab, this.slabUsed * 8, capacity);
    this.slabUsed += capacity;
    return view;
  }

  give(a: Float64Array): void {
    const n = a.length;
    const k = Math.log2(n);
    // the smallest live in V8's heap, where a new one is as cheap as a reused one
    if (n <= FIRST_CAPACITY || n > this.maxElements || !Number.isInteger(k)) return;
    // full: the sizes held most make room, so that arrays of a size no longer asked for (the
    // steps a new series grew through) do not keep out the ones the next pass needs
    while (this.held + n > this.maxElements) {
      const most = this.mostHeld(k);
      if (most < 0) return;
      this.free[most]!.pop();
      this.held -= 2 ** most;
    }
    (this.free[k] ??= []).push(a);
    this.held += n;
  }

  /** The size class other than `except` holding the most elements, or -1 if none holds any. */
  private mostHeld(except: number): number {
    let best = -1;
    let bestElements = 0;
    this.free.forEach((list, k) => {
      const elements = list.length * 2 ** k;
      if (k !== except && elements > bestElements) {
        best = k;
        bestElements = elements;
      }
    });
    return best;
  }

  /** Whether at least `count` arrays of `capacity` elements are held. */
  holds(capacity: number, count: number): boolean {
    return (this.free[Math.log2(capacity)]?.length ?? 0) >= count;
  }

  /** Drops every array held for reuse. */
  clear(): void {
    this.free.length = 0;
    this.held = 0;
  }

  /** elements held for reuse */
  get elements(): number {
    return this.held;
  }
}

/**
 * One series' points in the cache, in two typed arrays that double when full. Why not plain JS
 * arrays: their backing stores live in V8's young generation, so every scavenge copied each
 * series' points until the persister took them (~0.9 s of main-thread scavenges on the large
 * load, and as much again on V8's helper threads). A typed array of more than 64 bytes keeps its
 * points outside the JavaScript heap, where the collector never moves them.
 */
export class SeriesPoints {
  times: Float64Array;
  values: Float64Array;
  length = 0;
  /** WAL segment in which walId is defined (-1: none yet) */
  walSeq = -1;
  walId = 0;
  /** SeriesIds id of the series while this entry is pending and indexed by id, else -1 */
  id = -1;
  constructor(
    /** WAL segment that holds this entry's oldest point: segments below the minimum can go */
    public segment: number,
    private readonly pool: ArrayPool,
    /** room for this many points before the first growth (a power of two) */
    capacity = FIRST_CAPACITY,
  ) {
    this.times = pool.take(capacity);
    this.values = pool.take(capacity);
  }

  push(time: number, value: number): void {
    const n = this.length;
    if (n === this.times.length) this.grow();
    this.times[n] = time;
    this.values[n] = value;
    this.length = n + 1;
  }

  /** Gives the arrays back to the pool: the entry must not be used any more. */
  release(): void {
    this.pool.give(this.times);
    this.pool.give(this.values);
    this.times = this.values = EMPTY;
    this.length = 0;
  }

  private grow(): void {
    // at least FIRST_CAPACITY: a released entry (length 0) must not "grow" to nothing
    const capacity = Math.max(FIRST_CAPACITY, this.times.length * 2);
    const times = this.pool.take(capacity);
    const values = this.pool.take(capacity);
    times.set(this.times);
    values.set(this.values);
    this.pool.give(this.times);
    this.pool.give(this.values);
    this.times = times;
    this.values = values;
  }
}

const EMPTY = new Float64Array(0);

export class WriteCache {
  private readonly pending = new Map<string, SeriesPoints>();
  private readonly inflight = new Map<string, SeriesPoints>();
  /** the pending entries again, by series id (PointBatch.ids), for the write path */
  private readonly byId: Array<SeriesPoints | undefined> = [];
  readonly pool: ArrayPool;
  /** points the last entry taken held, by series id: the size of the series' next entry */
  private readonly lengthById: number[] = [];
  /** points held in pending + inflight */
  points = 0;

  /** `poolElements`: how many array elements finished entries leave for new ones at most */
  constructor(poolElements = POOL_MAX_ELEMENTS) {
    this.pool = new ArrayPool(poolElements);
  }

  get series(): number {
    return this.pending.size + this.inflight.size;
  }

  get pendingSeries(): number {
    return this.pending.size;
  }

  /** The pending entry of a series, if any (the write path appends to it directly). */
  pendingEntry(name: string): SeriesPoints | undefined {
    return this.pending.get(name);
  }

  /** pendingEntry by series id (an array index; undefined when not indexed yet) */
  pendingById(id: number): SeriesPoints | undefined {
    return this.byId[id];
  }

  /** Indexes a pending entry by its series id too. */
  index(sp: SeriesPoints, id: number): void {
    sp.id = id;
    this.byId[id] = sp;
  }

  /**
   * A new pending entry; with the series id, indexed by it too and sized for as many points as
   * the series' previous entry held (a steady series then never grows its arrays).
   */
  newEntry(name: string, segment: number, id = -1): SeriesPoints {
    const hint = id >= 0 ? (this.lengthById[id] ?? 0) : 0;
    const sized = hint > FIRST_CAPACITY ? 2 ** Math.ceil(Math.log2(hint)) : FIRST_CAPACITY;
    // only from arrays the pool holds: a hint never allocates, so a backfill that left every
    // series with a large hint cannot make the next trickle of one point per series take
    // memory the budget (counted in points) does not see
    const sp = new SeriesPoints(segment, this.pool, sized > FIRST_CAPACITY && this.pool.holds(sized, 2) ? sized : FIRST_CAPACITY);
    this.pending.set(name, sp);
    if (id >= 0) this.index(sp, id);
    return sp;
  }

  private unindex(sp: SeriesPoints): void {
    if (sp.id >= 0 && this.byId[sp.id] === sp) this.byId[sp.id] = undefined;
    sp.id = -1;
  }

  add(name: string, time: number, value: number, segment: number): void {
    (this.pending.get(name) ?? this.newEntry(name, segment)).push(time, value);
    this.points++;
  }

  pendingPoints(name: string): number {
    return this.pending.get(name)?.length ?? 0;
  }

  has(name: string): boolean {
    return this.pending.has(name) || this.inflight.has(name);
  }

  /**
   * Series to write in this pass, most points first (carbon's `sorted` strategy): each series
   * at most once per pass, none that is already being written; equal counts in the order the
   * series came. Grouped by count rather than sorted: a pass over a million series sorted them in
   * ~0.4 s of blocked event loop, and the counts take few distinct values.
   */
  snapshot(): string[] {
    const byCount = new Map<number, string[]>();
    const writing = this.inflight.size > 0;
    for (const [name, sp] of this.pending) {
      if (writing && this.inflight.has(name)) continue;
      let group = byCount.get(sp.length);
      if (!group) byCount.set(sp.length, (group = []));
      group.push(name);
    }
    if (byCount.size <= 1) return byCount.values().next().value ?? [];
    const out: string[] = [];
    for (const count of [...byCount.keys()].sort((a, b) => b - a)) for (const name of byCount.get(count)!) out.push(name);
    return out;
  }

  /** Moves a series' points to inflight for the persister; undefined if nothing is pending. */
  take(name: string): SeriesPoints | undefined {
    if (this.inflight.has(name)) return undefined;
    const sp = this.pending.get(name);
    if (!sp) return undefined;
    this.pending.delete(name);
    // capped, so that a long backlog does not ask the pool for its largest arrays
    if (sp.id >= 0) this.lengthById[sp.id] = Math.min(sp.length, MAX_HINT);
    this.unindex(sp);
    this.inflight.set(name, sp);
    return sp;
  }

  /** The points are on disk. */
  done(name: string): void {
    const sp = this.inflight.get(name);
    if (!sp) return;
    this.inflight.delete(name);
    this.points -= sp.length;
    sp.release();
  }

  /** Writing failed: the points go back, ahead of newer ones, to be retried. */
  putBack(name: string): void {
    const sp = this.inflight.get(name);
    if (!sp) return;
    this.inflight.delete(name);
    const newer = this.pending.get(name);
    if (newer) {
      for (let i = 0; i < newer.length; i++) sp.push(newer.times[i]!, newer.values[i]!);
      sp.segment = Math.min(sp.segment, newer.segment);
      // the newer entry may be the one the write path finds by id: the old one replaces it there
      const id = newer.id;
      this.unindex(newer);
      if (id >= 0) this.index(sp, id);
      // its WAL id (per name and segment) serves the merged entry as well
      sp.walSeq = newer.walSeq;
      sp.walId = newer.walId;
      newer.release();
    }
    this.pending.set(name, sp);
  }

  /** The series' points were refused for good (corrupt file): returns how many. */
  discard(name: string): number {
    let n = 0;
    for (const m of [this.pending, this.inflight]) {
      const sp = m.get(name);
      if (sp) {
        n += sp.length;
        m.delete(name);
        this.unindex(sp);
        sp.release();
      }
    }
    this.points -= n;
    return n;
  }

  /** Unpersisted points of one series, oldest arrival first (inflight, then pending). */
  pointsOf(name: string): Array<readonly [number, number]> {
    const out: Array<readonly [number, number]> = [];
    for (const sp of [this.inflight.get(name), this.pending.get(name)]) {
      if (!sp) continue;
      for (let i = 0; i < sp.length; i++) out.push([sp.times[i]!, sp.values[i]!]);
    }
    return out;
  }

  /** Every entry, inflight before pending (so a series' points come oldest arrival first). */
  forEachEntry(fn: (name: string, sp: SeriesPoints) => void): void {
    for (const [name, sp] of this.inflight) fn(name, sp);
    for (const [name, sp] of this.pending) fn(name, sp);
  }

  /** Lowest WAL segment still needed, or `fallback` when the cache is empty. */
  minSegment(fallback: number): number {
    let min = fallback;
    for (const m of [this.pending, this.inflight]) for (const sp of m.values()) if (sp.segment < min) min = sp.segment;
    return min;
  }
}

/**
 * carbon keeps one value per timestamp (a dict, so the last received wins) before calling
 * update_many; whisper then keeps the last of equal aligned intervals.
 */
export function dedupeLastWins(sp: SeriesPoints): { times: Float64Array; values: Float64Array } {
  const n = sp.length;
  const held = { times: sp.times.subarray(0, n), values: sp.values.subarray(0, n) };
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = sp.times[i]! > sp.times[i - 1]!;
  if (ascending) return held; // the usual case: nothing to do
  const last = new Map<number, number>();
  for (let i = 0; i < n; i++) last.set(sp.times[i]!, i);
  if (last.size === n) return held;
  const times = new Float64Array(last.size);
  const values = new Float64Array(last.size);
  let k = 0;
  for (const i of last.values()) {
    times[k] = sp.times[i]!;
    values[k++] = sp.values[i]!;
  }
  return { times, values };
}
