/**
 * A small store plugin for tests, loaded like a third-party plugin: it keeps every point it is
 * written (copied, as the bus contract requires) so a test can read what the aggregator flushed.
 */
import { definePlugin, type PointBatch, type StoreInstance } from '../../core/index.js';

export interface CapturedPoint {
  readonly name: string;
  readonly value: number;
  readonly time: number;
}

/** Every capture store instance, by id, so tests can reach the points. */
export const captured = new Map<string, CapturedPoint[]>();

export const captureStore = definePlugin<'store', Record<string, never>>({
  kind: 'store',
  name: 'test_capture',
  since: '0.1.0',
  description: 'keeps written points in memory (tests only)',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create(ctx): StoreInstance {
    const points: CapturedPoint[] = [];
    captured.set(ctx.id, points);
    return {
      async start() {},
      async stop() {},
      write(b: PointBatch) {
        for (let i = 0; i < b.length; i++) points.push({ name: b.names[i]!, value: b.values[i]!, time: b.times[i]! });
      },
      async find() {
        return [];
      },
      async fetch() {
        return [];
      },
    };
  },
});

/** Sum of a series' values over all flushes (counts), or its last value. */
export function sumOf(points: readonly CapturedPoint[], name: string): number {
  let s = 0;
  for (const p of points) if (p.name === name) s += p.value;
  return s;
}
export function lastOf(points: readonly CapturedPoint[], name: string): number | undefined {
  let v: number | undefined;
  for (const p of points) if (p.name === name) v = p.value;
  return v;
}
