/**
 * Process-wide small integer ids for canonical series names, assigned on first sight and never
 * reused. Why: an input already pays one hash lookup to turn raw bytes into a canonical name; with
 * the id in the batch (PointBatch.ids) a store can find its per-series state by array index
 * instead of hashing the name a second time. Grows with the number of distinct valid series
 * (as every store's index does); names are canonical, so refused names never get an id.
 */
export class SeriesIds {
  private readonly byName = new Map<string, number>();
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** The id of a canonical name, assigned now if new. */
  idOf(name: string): number {
    let id = this.byName.get(name);
    if (id === undefined) {
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
