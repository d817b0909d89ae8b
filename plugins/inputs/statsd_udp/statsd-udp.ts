import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { InputContext, InputInstance } from '../../../core/index.js';
import { StatsdPacketHandler } from '../../shared/statsd-line/index.js';
import type { StatsdUdpOptions } from './options.js';

/**
 * One UDP socket; every datagram is parsed synchronously in the 'message' callback (parsing is
 * cheap, see bench/statsd-line). The receive buffer is raised because loss happens in the kernel
 * while the event loop is busy elsewhere (a flush, a render), not in parsing.
 */
export class StatsdUdpInput implements InputInstance {
  private socket: dgram.Socket | undefined;
  private readonly handler: StatsdPacketHandler;
  private bound: string[] = [];

  constructor(
    private readonly ctx: InputContext,
    private readonly o: Readonly<StatsdUdpOptions>,
  ) {
    this.handler = new StatsdPacketHandler(ctx, o);
  }

  async start(): Promise<void> {
    const type = this.o.host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ...(this.o.recvBufferSize > 0 ? { recvBufferSize: this.o.recvBufferSize } : {}) });
    socket.on('message', (msg) => {
      try {
        this.handler.handle(msg.toString('utf8'));
      } catch (err) {
        // the parser does not throw on bad input; this guards against our own bugs
        this.ctx.stats.addError('packet');
        this.ctx.log.limited('packet_error', 'StatsD packet handling failed', { err: String(err) });
      }
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`statsd_udp cannot bind udp ${this.o.host}:${this.o.port}: ${err.message}`));
      socket.once('error', onError);
      socket.bind(this.o.port, this.o.host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    socket.on('error', (err) => {
      this.ctx.stats.addError('socket');
      this.ctx.log.limited('socket_error', 'StatsD UDP socket error', { err: err.message });
    });
    const actual = socket.getRecvBufferSize();
    this.ctx.stats.gauge('recv_buffer_bytes', actual);
    // Linux doubles the size it grants (bookkeeping overhead); less than that means rmem_max capped it
    const expected = process.platform === 'linux' ? this.o.recvBufferSize * 2 : this.o.recvBufferSize;
    if (this.o.recvBufferSize > 0 && actual < expected) {
      this.ctx.log.info('receive buffer capped by the kernel; raise net.core.rmem_max to get the configured size', {
        requested: this.o.recvBufferSize,
        granted: process.platform === 'linux' ? actual / 2 : actual,
      });
    }
    const a = socket.address();
    this.bound = [`udp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`];
    this.socket = socket;
    this.ctx.log.info('listening', { address: this.bound[0] });
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    this.ctx.samples.flush();
  }

  listening(): string[] {
    return this.bound;
  }

  stats(): Record<string, number> {
    return { kernel_rcvbuf_errors: kernelRcvbufErrors() };
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
