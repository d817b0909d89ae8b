import { definePlugin, type Resource } from '../../../core/index.js';
import { schema } from './schema.js';
import type { CarbonPickleOptions } from './options.js';
import { CarbonPickleInput } from './carbon-pickle.js';

export default definePlugin<'input', CarbonPickleOptions>({
  kind: 'input',
  name: 'carbon_pickle',
  since: '0.1.0',
  description: 'Carbon pickle protocol (length-prefixed pickled lists of (path, (timestamp, value))) over TCP, decoded safely',
  schema,
  resources: (o): Resource[] => [{ kind: 'tcp', host: o.host, port: o.port }],
  create: (ctx, options) => new CarbonPickleInput(ctx, options),
});
