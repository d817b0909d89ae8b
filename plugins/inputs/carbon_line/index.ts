import { definePlugin, type Resource } from '../../../core/index.js';
import { schema } from './schema.js';
import type { CarbonLineOptions } from './options.js';
import { CarbonLineInput } from './carbon-line.js';

export default definePlugin<'input', CarbonLineOptions>({
  kind: 'input',
  name: 'carbon_line',
  since: '0.1.0',
  description: 'Carbon plaintext protocol (`path value timestamp` lines) over TCP and UDP',
  schema,
  resources(o): Resource[] {
    const out: Resource[] = [];
    if (o.protocols !== 'udp') out.push({ kind: 'tcp', host: o.host, port: o.port });
    if (o.protocols !== 'tcp') out.push({ kind: 'udp', host: o.host, port: o.port });
    return out;
  },
  create: (ctx, options) => new CarbonLineInput(ctx, options),
});
