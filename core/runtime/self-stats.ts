/**
 * Per-instance counters every plugin gets from the harness. Names are stable: they become the
 * series `<prefix><section>.<instance>.<name>` and the keys of GET /stats.
 */
export class InstanceStats {
  received = 0;
  emitted = 0;
  readonly dropped = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();

  constructor(readonly id: string) {}

  addReceived(n = 1): void {
    this.received += n;
  }

  addEmitted(n = 1): void {
    this.emitted += n;
  }

  /** Something was refused or lost; `reason` is a stable snake_case word. */
  addDropped(reason: string, n = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + n);
  }

  addError(reason: string, n = 1): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + n);
  }

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  gauge(name: string, value: number): void {
    this.gauges.set(name, value);
  }

  droppedTotal(): number {
    let t = 0;
    for (const v of this.dropped.values()) t += v;
    return t;
  }

  errorsTotal(): number {
    let t = 0;
    for (const v of this.errors.values()) t += v;
    return t;
  }

  /** A JSON-friendly copy; `extra` are the plugin's own stats() values. */
  snapshot(extra?: Record<string, number>): InstanceSnapshot {
    return {
      received: this.received,
      emitted: this.emitted,
      dropped: Object.fromEntries(this.dropped),
      droppedTotal: this.droppedTotal(),
      errors: Object.fromEntries(this.errors),
      errorsTotal: this.errorsTotal(),
      counters: Object.fromEntries(this.counters),
      gauges: { ...Object.fromEntries(this.gauges), ...(extra ?? {}) },
    };
  }
}

export interface InstanceSnapshot {
  received: number;
  emitted: number;
  dropped: Record<string, number>;
  droppedTotal: number;
  errors: Record<string, number>;
  errorsTotal: number;
  counters: Record<string, number>;
  gauges: Record<string, number>;
}

/** Flattens a snapshot to metric leaves: `received`, `dropped.<reason>`, `counters` and gauges by name. */
export function flattenSnapshot(s: InstanceSnapshot): Array<[string, number]> {
  const out: Array<[string, number]> = [
    ['received', s.received],
    ['emitted', s.emitted],
    ['dropped', s.droppedTotal],
    ['errors', s.errorsTotal],
  ];
  for (const [k, v] of Object.entries(s.dropped)) out.push([`dropped_by.${k}`, v]);
  for (const [k, v] of Object.entries(s.errors)) out.push([`errors_by.${k}`, v]);
  for (const [k, v] of Object.entries(s.counters)) out.push([k, v]);
  for (const [k, v] of Object.entries(s.gauges)) out.push([k, v]);
  return out;
}
