import { readFileSync } from 'node:fs';
import { DatagramServer, type InputContext, type InputInstance } from '../../../core/index.js';
import { StatsdPacketHandler } from '../../shared/statsd-line/index.js';
import type { StatsdUdpOptions } from './options.js';

/**
 * StatsD over UDP. The core's DatagramServer drains the socket in a receive thread; each datagram
 * is parsed here, on the event loop, in the batches it hands over.
 */
export class StatsdUdpInput implements InputInstance {
  private server: DatagramServer | undefined;
  private readonly handler: StatsdPacketHandler;

  constructor(
    private readonly ctx: InputContext,
    private readonly o: Readonly<StatsdUdpOptions>,
  ) {
    this.handler = new StatsdPacketHandler(ctx, o);
  }

  async start(): Promise<void> {
    const server = new DatagramServer(
      this.ctx,
      // StatsD has no use for the sender: the thread need not look it up per datagram
      { host: this.o.host, port: this.o.port, recvBufferBytes: this.o.recvBufferSize, receiveQueueBytes: this.o.receiveQueueBytes, peers: false, label: 'StatsD' },
      (bytes, start, end) => this.handler.handle(bytes.toString('utf8', start, end)),
    );
    await server.start();
    this.server = server;
    this.ctx.log.info('listening', { address: server.url() });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    this.ctx.samples.flush();
  }

  listening(): string[] {
    return this.server ? [this.server.url()] : [];
  }

  /** For tests: the socket's receive thread. */
  get receiveThread(): DatagramServer['receiveThread'] {
    return this.server?.receiveThread;
  }

  stats(): Record<string, number> {
    const drops = this.server?.socketDrops();
    return { kernel_rcvbuf_errors: kernelRcvbufErrors(), ...(drops !== undefined ? { socket_drops: drops } : {}) };
  }
}

/**
 * UDP receive-buffer overflows counted by the kernel (all UDP sockets of the host, IPv4 + IPv6):
 * the drops no user-space counter can see. -1 when /proc is unavailable.
 */
export function kernelRcvbufErrors(): number {
  try {
    let total = 0;
    const snmp = readFileSync('/proc/net/snmp', 'utf8').split('\n');
    const header = snmp.find((l) => l.startsWith('Udp: '));
    const values = snmp.filter((l) => l.startsWith('Udp: '))[1];
    if (header && values) {
      const i = header.split(' ').indexOf('RcvbufErrors');
      if (i > 0) total += Number(values.split(' ')[i]) || 0;
    }
    try {
      const m = /Udp6RcvbufErrors\s+(\d+)/.exec(readFileSync('/proc/net/snmp6', 'utf8'));
      if (m) total += Number(m[1]);
    } catch {
      // no IPv6 on this host
    }
    return total;
  } catch {
    return -1;
  }
}
