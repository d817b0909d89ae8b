import { definePlugin } from '../../../core/index.js';
import type { StatsdUdpOptions } from './options.js';
import { statsdUdpSchema } from './schema.js';
import { StatsdUdpInput } from './statsd-udp.js';

export default definePlugin<'input', StatsdUdpOptions>({
  kind: 'input',
  name: 'statsd_udp',
  since: '0.1.0',
  description: 'StatsD over UDP (Etsy statsd line protocol, DogStatsD tags), one datagram = one packet',
  schema: statsdUdpSchema,
  resources: (o) => (o.port === 0 ? [] : [{ kind: 'udp', host: o.host, port: o.port }]),
  create: (ctx, options) => new StatsdUdpInput(ctx, options),
});
