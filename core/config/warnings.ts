import type { CarbonadoConfig } from './root-schema.js';

/**
 * Configurations that are valid but almost certainly not what was meant: an empty file parses to
 * a config that starts only the HTTP server, and inputs without a store drop every point.
 * Logged at start and printed by check-config.
 */
export function configWarnings(config: Readonly<CarbonadoConfig>): string[] {
  const inputs = Object.keys(config.inputs).length;
  const stores = Object.keys(config.stores).length;
  if (inputs === 0 && stores === 0) return ['no inputs and no stores: this configuration receives and keeps nothing (is the file empty?)'];
  if (stores === 0) return ['inputs but no stores: every point received is dropped'];
  return [];
}
