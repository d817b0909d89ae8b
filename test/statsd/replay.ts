/**
 * Replays StatsD packets through carbonado's own parser, packet handler and aggregator (the real
 * classes, wired with the core's real batchers; only the sockets are left out) and returns what
 * each flush emitted. The golden tests compare this with what Etsy statsd flushed.
 */
import { createBus } from '../../core/bus/bus.js';
import { Batcher, InstanceStats, Logger, SampleBatcher, type AggregatorContext, type InputContext } from '../../core/index.js';
import { StatsdPacketHandler, type StatsdParseOptions } from '../../plugins/shared/statsd-line/index.js';
import { StatsdAggregator } from '../../plugins/aggregators/statsd/statsd-aggregator.js';
import { statsdAggregatorSchema } from '../../plugins/aggregators/statsd/schema.js';
import { fromEtsyConfig, type EtsyStatsdConfig } from '../../plugins/aggregators/statsd/etsy-config.js';
import type { StatsdAggregatorOptions } from '../../plugins/aggregators/statsd/options.js';

export function schemaDefaults<T>(schema: object): T {
  const out: Record<string, unknown> = {};
  const props = (schema as { properties: Record<string, { default: unknown }> }).properties;
  for (const [k, p] of Object.entries(props)) out[k] = structuredClone(p.default);
  return out as T;
}

const quiet = { write() {} };

export interface Replayer {
  packet(text: string): void;
  flush(ts: number): Promise<Array<[string, number]>>;
  readonly input: InputContext;
  readonly aggregator: StatsdAggregator;
  readonly aggregatorStats: InstanceStats;
}

export function replayer(etsy: EtsyStatsdConfig, over: Partial<StatsdAggregatorOptions> = {}, parse: Partial<StatsdParseOptions> = {}): Replayer {
  const mapped = fromEtsyConfig(etsy);
  const opts: StatsdAggregatorOptions = { ...schemaDefaults<StatsdAggregatorOptions>(statsdAggregatorSchema), ...mapped.aggregator, ...over, httpPath: '' };
  const bus = createBus();
  const log = new Logger('test', 'error', 'text', quiet);
  let out: Array<[string, number]> = [];
  const limits = { maxPoints: 1000, maxDelayMs: 50 };
  const now = () => Date.now() / 1000;
  const aggCtx: AggregatorContext = {
    id: 'aggregators.statsd',
    bus,
    log,
    stats: new InstanceStats('aggregators.statsd'),
    http: { mount() {} },
    now,
    stores: new Map(),
    drainInputs: () => samples.flush(),
    points: new Batcher((b) => {
      for (let i = 0; i < b.length; i++) out.push([b.names[i]!, b.values[i]!]);
    }, limits),
  };
  const aggregator = new StatsdAggregator(aggCtx, Object.freeze(opts));
  const samples = new SampleBatcher((b) => aggregator.add(b), limits, now);
  const input: InputContext = {
    id: 'inputs.statsd',
    bus,
    log,
    stats: new InstanceStats('inputs.statsd'),
    http: { mount() {} },
    now,
    points: new Batcher(() => {}, limits),
    samples,
    underPressure: () => false,
  };
  const handler = new StatsdPacketHandler(input, { keySanitize: 'all', typeDialect: 'etsy', ...mapped.input, ...parse });
  return {
    input,
    aggregator,
    aggregatorStats: aggCtx.stats,
    packet: (text) => handler.handle(text),
    async flush(ts) {
      samples.flush();
      out = [];
      await aggregator.flushNow(ts);
      return out;
    },
  };
}
