import { definePlugin } from '../../../core/index.js';
import type { StatsdAggregatorOptions } from './options.js';
import { statsdAggregatorSchema } from './schema.js';
import { StatsdAggregator } from './statsd-aggregator.js';

export default definePlugin<'aggregator', StatsdAggregatorOptions>({
  kind: 'aggregator',
  name: 'statsd',
  since: '0.1.0',
  description: "StatsD samples → Graphite points with Etsy statsd's maths and names (counters, timers, gauges, sets)",
  schema: statsdAggregatorSchema,
  create: (ctx, options) => new StatsdAggregator(ctx, options),
});
