import { InstanceStats, Logger, type StoreContext } from '../../core/index.js';
import { createBus } from '../../core/bus/bus.js';

/**
 * A StoreContext for a store run without a runtime, counting its ctx.startProgress() reports.
 * `now`: the store's clock (Unix seconds); the wall clock when omitted.
 */
export function countingStoreContext(id: string, now?: number): { ctx: StoreContext; reports: () => number } {
  let n = 0;
  const ctx: StoreContext = {
    id,
    bus: createBus(),
    log: new Logger(id, 'error'),
    stats: new InstanceStats(id),
    http: { mount() {} },
    now: () => now ?? Date.now() / 1000,
    setPressure() {},
    startProgress: () => void n++,
  };
  return { ctx, reports: () => n };
}
