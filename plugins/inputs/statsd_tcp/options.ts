import type { StatsdParseOptions } from '../../shared/statsd-line/index.js';

export interface StatsdTcpOptions extends StatsdParseOptions {
  /** address to bind; '::' takes IPv6 and (on Linux, dual-stack) IPv4 too */
  host: string;
  /** TCP port; 0 picks a free one (tests) */
  port: number;
  /** longest line kept; a longer one is dropped (up to its newline) and counted as line_too_long */
  maxLineBytes: number;
  /** connections beyond this are refused and counted */
  maxConnections: number;
}
