/** A store context and validated options for driving a CarbonRelay directly (no runtime). */
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { InstanceStats, Logger, type StoreContext } from '../../core/index.js';
import { createBus } from '../../core/bus/bus.js';
import { schema } from '../../plugins/stores/carbon_relay/schema.js';
import type { CarbonRelayOptions } from '../../plugins/stores/carbon_relay/options.js';

export function ctxFor(id = 'stores.relay'): StoreContext {
  return {
    id,
    bus: createBus(),
    log: new Logger(id, 'error'),
    stats: new InstanceStats(id),
    http: { mount() {} },
    now: () => Date.now() / 1000,
    setPressure() {},
  };
}

/** Options as the core would hand them over: validated against the plugin schema, defaults applied. */
export function relayOptions(o: Partial<CarbonRelayOptions> & { destinations: string[] }): CarbonRelayOptions {
  const copy = structuredClone(o) as CarbonRelayOptions;
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(schema);
  assert.ok(validate(copy), JSON.stringify(validate.errors));
  return copy;
}
