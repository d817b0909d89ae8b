import { definePlugin } from '../../../core/index.js';
import type { CarbonRelayOptions } from './options.js';
import { CarbonRelay } from './relay.js';
import { Router } from './router.js';
import { schema } from './schema.js';

export default definePlugin<'store', CarbonRelayOptions>({
  kind: 'store',
  name: 'carbon_relay',
  since: '0.1.0',
  description: 'forwards points to carbon-compatible destinations by consistent hashing (carbon_ch, fnv1a_ch, jump_fnv1a_ch), with memory and disk queues',
  schema,
  // building the router checks what the schema cannot: destinations the ring can tell apart,
  // rule regexes that compile, rule destinations that are relay destinations
  validate(options) {
    try {
      new Router(options);
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  },
  create: (ctx, options) => new CarbonRelay(ctx, options),
});
