// A real input context for plugin tests without the runtime: the core's own batchers, stats and
// logger, with the emitted batches copied into arrays (batches are reused after each emit).
import { createBus } from '../../core/bus/bus.js';
import { Batcher, InstanceStats, Logger, SampleBatcher, type InputContext, type SampleType } from '../../core/index.js';

export interface Sample {
  name: string;
  type: SampleType;
  value: number;
  rate: number;
  member?: string;
}

export interface Point {
  name: string;
  value: number;
  time: number;
}

export interface TestContext {
  ctx: InputContext;
  samples: Sample[];
  points: Point[];
  logs: string[];
  stats: InstanceStats;
}

export function testContext(id = 'inputs.test'): TestContext {
  const samples: Sample[] = [];
  const points: Point[] = [];
  const logs: string[] = [];
  const stats = new InstanceStats(id);
  const log = new Logger(id, 'debug', 'text', { write: (l: string) => void logs.push(l) });
  const ctx: InputContext = {
    id,
    bus: createBus(),
    log,
    stats,
    http: { mount: () => undefined },
    now: () => Date.now() / 1000,
    points: new Batcher(
      (b) => {
        for (let i = 0; i < b.length; i++) points.push({ name: b.names[i]!, value: b.values[i]!, time: b.times[i]! });
      },
      { maxPoints: 1000, maxDelayMs: 5 },
    ),
    samples: new SampleBatcher(
      (b) => {
        for (let i = 0; i < b.length; i++) {
          const s: Sample = { name: b.names[i]!, type: b.types[i] as SampleType, value: b.values[i]!, rate: b.rates[i]! };
          if (b.members[i] !== undefined) s.member = b.members[i]!;
          samples.push(s);
        }
      },
      { maxPoints: 1000, maxDelayMs: 5 },
      () => Date.now() / 1000,
    ),
    underPressure: () => false,
  };
  return { ctx, samples, points, logs, stats };
}

/** Polls `cond` every 10 ms until it holds or `ms` pass (never a blind sleep). */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
