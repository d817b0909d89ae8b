import { definePlugin } from '../../../core/index.js';
import type { CarbonRelayOptions } from './options.js';
import { CarbonRelay } from './relay.js';
import { schema } from './schema.js';

export default definePlugin<'store', CarbonRelayOptions>({
  kind: 'store',
  name: 'carbon_relay',
  since: '0.1.0',
  description: 'forwards points to carbon-compatible destinations by consistent hashing (carbon_ch, fnv1a_ch, jump_fnv1a_ch), with memory and disk queues',
  schema,
  create: (ctx, options) => new CarbonRelay(ctx, options),
});
