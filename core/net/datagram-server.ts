import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { InputContext } from '../contracts/input.js';
import { bindError } from './stream-server.js';
import { formatAddress } from './listen.js';

export interface DatagramServerOptions {
  readonly host: string;
  readonly port: number;
  /** SO_RCVBUF in bytes; 0 keeps the OS default */
  readonly recvBufferBytes: number;
}

/** A UDP listener for datagram inputs: IPv4 or IPv6 by host, receive buffer, clear bind errors. */
export class DatagramServer {
  private socket: Socket | undefined;

  constructor(
    private readonly ctx: InputContext,
    private readonly opts: DatagramServerOptions,
    private readonly onMessage: (msg: Buffer, peer: RemoteInfo) => void,
  ) {}

  async start(): Promise<void> {
    const type = isIPv6(this.opts.host) ? 'udp6' : 'udp4';
    const socket = createSocket({ type, reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) => reject(bindError(this.ctx.id, 'udp', this.opts.host, this.opts.port, err)));
      socket.bind({ address: this.opts.host, port: this.opts.port, exclusive: true }, () => resolve());
    });
    if (this.opts.recvBufferBytes > 0) {
      try {
        socket.setRecvBufferSize(this.opts.recvBufferBytes);
      } catch (err) {
        this.ctx.log.warn('cannot set the UDP receive buffer size', { error: err as Error });
      }
    }
    socket.on('error', (err) => {
      this.ctx.stats.addError('socket_error');
      this.ctx.log.limited('udp_error', 'udp socket error', { error: err });
    });
    socket.on('message', (msg, rinfo) => {
      try {
        this.onMessage(msg, rinfo);
      } catch (err) {
        this.ctx.stats.addError('handler_threw');
        this.ctx.log.limited('handler_threw', 'datagram handler failed', { peer: rinfo.address, error: err as Error });
      }
    });
    this.socket = socket;
  }

  address(): { host: string; port: number } | undefined {
    if (!this.socket) return undefined;
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  url(): string {
    const a = this.address();
    return a ? `udp://${formatAddress(a.host, a.port)}` : '';
  }

  recvBufferSize(): number {
    try {
      return this.socket?.getRecvBufferSize() ?? 0;
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
