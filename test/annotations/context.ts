// A real (not mocked) plugin context for unit tests that exercise one instance without the
// runtime: the core's own bus, stats and logger, with logs kept quiet.
import { createBus } from '../../core/bus/bus.js';
import { InstanceStats, Logger, type BaseContext, type StoreContext } from '../../core/index.js';

export function baseContext(id: string): BaseContext {
  return {
    id,
    bus: createBus(),
    log: new Logger(id, 'error'),
    stats: new InstanceStats(id),
    http: { mount() {} },
    now: () => Date.now() / 1000,
  };
}

export function storeContext(id: string): StoreContext {
  return { ...baseContext(id), setPressure() {} };
}
