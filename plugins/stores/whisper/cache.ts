/**
 * The write-back cache: accepted points grouped per series until the persister writes them.
 * Points a persister has taken stay visible (`inflight`) until they are on disk, so a query
 * never misses a point in the gap (go-carbon's notConfirmed idea).
 */
export class SeriesPoints {
  times: number[] = [];
  values: number[] = [];
  /** WAL segment in which walId is defined (-1: none yet) */
  walSeq = -1;
  walId = 0;
  /** SeriesIds id of the series while this entry is pending and indexed by id, else -1 */
  id = -1;
  constructor(
    /** WAL segment that holds this entry's oldest point: segments below the minimum can go */
    public segment: number,
  ) {}
  get length(): number {
    return this.times.length;
  }
}

export class WriteCache {
  private readonly pending = new Map<string, SeriesPoints>();
  private readonly inflight = new Map<string, SeriesPoints>();
  /** the pending entries again, by series id (PointBatch.ids), for the write path */
  private readonly byId: Array<SeriesPoints | undefined> = [];
  /** points held in pending + inflight */
  points = 0;

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

  newEntry(name: string, segment: number): SeriesPoints {
    const sp = new SeriesPoints(segment);
    this.pending.set(name, sp);
    return sp;
  }

  private unindex(sp: SeriesPoints): void {
    if (sp.id >= 0 && this.byId[sp.id] === sp) this.byId[sp.id] = undefined;
    sp.id = -1;
  }

  add(name: string, time: number, value: number, segment: number): void {
    let sp = this.pending.get(name);
    if (!sp) this.pending.set(name, (sp = new SeriesPoints(segment)));
    sp.times.push(time);
    sp.values.push(value);
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
   * at most once per pass, none that is already being written.
   */
  snapshot(): string[] {
    const names: string[] = [];
    const counts: number[] = [];
    for (const [name, sp] of this.pending) {
      if (this.inflight.has(name)) continue;
      names.push(name);
      counts.push(sp.length);
    }
    const order = names.map((_, i) => i).sort((a, b) => counts[b]! - counts[a]!);
    return order.map((i) => names[i]!);
  }

  /** Moves a series' points to inflight for the persister; undefined if nothing is pending. */
  take(name: string): SeriesPoints | undefined {
    if (this.inflight.has(name)) return undefined;
    const sp = this.pending.get(name);
    if (!sp) return undefined;
    this.pending.delete(name);
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
  }

  /** Writing failed: the points go back, ahead of newer ones, to be retried. */
  putBack(name: string): void {
    const sp = this.inflight.get(name);
    if (!sp) return;
    this.inflight.delete(name);
    const newer = this.pending.get(name);
    if (newer) {
      // a loop, not push(...): a series held back by a full disk can have more points than the
      // engine accepts as call arguments
      for (let i = 0; i < newer.length; i++) {
        sp.times.push(newer.times[i]!);
        sp.values.push(newer.values[i]!);
      }
      sp.segment = Math.min(sp.segment, newer.segment);
      // the newer entry may be the one the write path finds by id: the old one replaces it there
      const id = newer.id;
      this.unindex(newer);
      if (id >= 0) this.index(sp, id);
      // its WAL id (per name and segment) serves the merged entry as well
      sp.walSeq = newer.walSeq;
      sp.walId = newer.walId;
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
export function dedupeLastWins(sp: SeriesPoints): { times: number[]; values: number[] } {
  const n = sp.length;
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = sp.times[i]! > sp.times[i - 1]!;
  if (ascending) return { times: sp.times, values: sp.values }; // the usual case: nothing to do
  const last = new Map<number, number>();
  for (let i = 0; i < n; i++) last.set(sp.times[i]!, i);
  if (last.size === n) return { times: sp.times, values: sp.values };
  const times: number[] = [];
  const values: number[] = [];
  for (const i of last.values()) {
    times.push(sp.times[i]!);
    values.push(sp.values[i]!);
  }
  return { times, values };
}
