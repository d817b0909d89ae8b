/**
 * Process-wide small integer ids for canonical series names, assigned on first sight and never
 * reused. Why: an input already pays one hash lookup to turn raw bytes into a canonical name; with
 * the id in the batch (PointBatch.ids) a store can find its per-series state by array index
 * instead of hashing the name a second time. Names are canonical, so refused names never get an
 * id. Bounded: past `maxIds` distinct names new names get -1 (no id; stores then key by name).
 * Ids are never reassigned, since a store may hold state under one: forgetting names to make room
 * could hand a known id to another series.
 */
export class SeriesIds {
  private readonly byName = new Map<string, number>();
  private readonly names: string[] = [];

  constructor(private readonly maxIds = 1 << 21) {}

  get size(): number {
    return this.names.length;
  }

  /** The id of a canonical name, assigned now if new; -1 once the registry is full. */
  idOf(name: string): number {
    let id = this.byName.get(name);
    if (id === undefined) {
      if (this.names.length >= this.maxIds) return -1;
      id = this.names.length;
      this.names.push(name);
      this.byName.set(name, id);
    }
    return id;
  }

  nameOf(id: number): string | undefined {
    return this.names[id];
  }
}
