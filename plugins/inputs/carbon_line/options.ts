export interface CarbonLineOptions {
  /** address to listen on */
  host: string;
  /** TCP and/or UDP port (0 picks a free one) */
  port: number;
  /** which transports to open on the port */
  protocols: 'tcp+udp' | 'tcp' | 'udp';
  /** longest accepted line in bytes (carbon's LineOnlyReceiver.MAX_LENGTH) */
  maxLineBytes: number;
  /** what to do with a `path value` line that has no timestamp */
  missingTimestamp: 'reject' | 'now';
  /** SO_RCVBUF for the UDP socket in bytes; 0 keeps the OS default */
  udpRecvBufferBytes: number;
  /** UDP datagrams received but not yet parsed, at most, in bytes (the receive thread's queue) */
  udpReceiveQueueBytes: number;
  /** most simultaneous TCP connections; further ones are refused and counted */
  maxConnections: number;
  /** close a TCP connection idle for this long; 0 never */
  idleTimeoutMs: number;
}
