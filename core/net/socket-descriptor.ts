import type { Socket } from 'node:dgram';

/**
 * A bound UDP socket's file descriptor, read from Node's internal state (the public `_handle`
 * prints a deprecation warning). Undefined where Node keeps it elsewhere or the platform has none
 * (Windows): callers then stay on the socket's 'message' events.
 */
export function descriptorOf(socket: Socket): number | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'state symbol');
  const handle = state ? (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[state]?.handle : undefined;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
