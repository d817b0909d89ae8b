import type { StatsdParseOptions } from '../../shared/statsd-line/index.js';

export interface StatsdUdpOptions extends StatsdParseOptions {
  /** address to bind; '::' takes IPv6 and (on Linux, dual-stack) IPv4 too */
  host: string;
  /** UDP port; 0 picks a free one (tests) */
  port: number;
  /** SO_RCVBUF in bytes; the kernel caps it at net.core.rmem_max; 0 keeps the OS default */
  recvBufferSize: number;
  /** the receive thread's queue: datagrams received but not yet parsed, at most, in bytes */
  receiveQueueBytes: number;
}
