/** Shared helpers for network inputs: address parsing and clear bind errors. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[v6]:port` or `:port` → { host, port }. */
export function parseListen(s: string, defaultHost = '0.0.0.0'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  if (!m) throw new Error(`invalid address "${s}": expected host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in "${s}"`);
  return { host: m[1] ?? (m[2] || defaultHost), port };
}

/** Formats an address for logs: 0.0.0.0:2003, [::]:2003. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
