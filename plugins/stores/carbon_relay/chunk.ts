/**
 * A chunk: a run of points bound for one destination, in columnar form (no per-point objects).
 * Chunks are the unit of queueing, sending, resending and spilling, so counters stay exact by
 * adding chunk lengths.
 */
export class Chunk {
  readonly names: string[];
  readonly values: Float64Array;
  readonly times: Float64Array;
  length = 0;

  constructor(readonly capacity: number) {
    this.names = new Array<string>(capacity);
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  /** Appends one point; the caller checks `full()` first. */
  push(name: string, value: number, time: number): void {
    const i = this.length++;
    this.names[i] = name;
    this.values[i] = value;
    this.times[i] = time;
  }

  full(): boolean {
    return this.length >= this.capacity;
  }
}
