import { definePlugin } from '../../../core/index.js';
import type { StatsdTcpOptions } from './options.js';
import { statsdTcpSchema } from './schema.js';
import { StatsdTcpInput } from './statsd-tcp.js';

export default definePlugin<'input', StatsdTcpOptions>({
  kind: 'input',
  name: 'statsd_tcp',
  since: '0.1.0',
  description: 'StatsD over TCP: newline-delimited lines, reading paused while a store is under pressure',
  schema: statsdTcpSchema,
  resources: (o) => (o.port === 0 ? [] : [{ kind: 'tcp', host: o.host, port: o.port }]),
  create: (ctx, options) => new StatsdTcpInput(ctx, options),
});
