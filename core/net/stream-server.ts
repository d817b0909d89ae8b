import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { InputContext } from '../contracts/input.js';
import type { PressureSignal } from '../bus/events.js';
import { CarbonadoError, ErrorCode } from '../errors.js';
import { formatAddress } from './listen.js';

export interface StreamServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
}

/** What a stream protocol does with one connection's bytes. */
export interface StreamHandler {
  data(chunk: Buffer): void;
  /** the peer closed or the server is stopping: handle what is complete, drop the rest */
  end(): void;
}

/**
 * How long the sockets of one listener may keep the event loop in one turn. Why: libuv reads a
 * readable socket up to 32 times (64 KiB each) per turn and each read runs the parser, so a
 * sender that never pauses held the loop for 100-450 ms at a time on a busy 2-core machine and
 * HTTP queries waited for it; a socket that has used the turn's budget is paused until the next
 * turn (setImmediate), after the other descriptors had theirs.
 */
const TURN_BUDGET_MS = 10;

/**
 * A TCP listener for stream inputs. It owns what every such input needs and no protocol:
 * a clear error when the port is taken, a connection limit, idle timeouts, pausing every socket
 * while a store signals pressure (so the kernel's flow control slows senders instead of the heap
 * growing), and a stop that handles every byte already read before it resolves.
 */
export class StreamServer {
  private server: Server | undefined;
  private readonly sockets = new Map<Socket, StreamHandler>();
  private paused = false;
  private turnStartedAt = 0;
  private readonly yielded = new Set<Socket>();

  constructor(
    private readonly ctx: InputContext,
    private readonly opts: StreamServerOptions,
    private readonly connect: (socket: Socket, peer: string) => StreamHandler,
  ) {}

  async start(): Promise<void> {
    const server = createServer({ noDelay: true, pauseOnConnect: false }, (s) => this.accept(s));
    server.maxConnections = this.opts.maxConnections;
    server.on('drop', () => this.ctx.stats.addDropped('connection_limit'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(this.ctx.id, 'tcp', this.opts.host, this.opts.port, err)));
      server.listen({ host: this.opts.host, port: this.opts.port, backlog: 1024 }, () => resolve());
    });
    server.on('error', (err) => this.ctx.log.error('tcp server error', { error: err }));
    this.server = server;
    this.ctx.bus.on('pressure', this.onPressure);
  }

  address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  url(): string {
    const a = this.address();
    return a ? `tcp://${formatAddress(a.host, a.port)}` : '';
  }

  get connections(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    this.ctx.bus.off('pressure', this.onPressure);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const [socket, handler] of this.sockets) {
      // bytes already read were handled in 'data'; end() deals with an unfinished frame
      socket.removeAllListeners('data');
      socket.destroy();
      this.finish(socket, handler);
    }
    await closed;
  }

  private accept(socket: Socket): void {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const handler = this.connect(socket, peer);
    this.sockets.set(socket, handler);
    this.ctx.stats.count('connections_accepted');
    if (this.opts.idleTimeoutMs > 0) {
      socket.setTimeout(this.opts.idleTimeoutMs, () => {
        this.ctx.stats.count('connections_idle_closed');
        socket.destroy();
      });
    }
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => {
      if (this.turnStartedAt === 0) {
        this.turnStartedAt = performance.now();
        setImmediate(this.nextTurn);
      }
      try {
        handler.data(chunk);
      } catch (err) {
        this.ctx.stats.addError('handler_threw');
        this.ctx.log.limited('handler_threw', 'connection handler failed; connection closed', { peer, error: err as Error });
        socket.destroy();
        return;
      }
      if (performance.now() - this.turnStartedAt > TURN_BUDGET_MS) {
        socket.pause();
        this.yielded.add(socket);
        this.ctx.stats.count('reads_yielded');
      }
    });
    socket.on('error', (err) => {
      this.ctx.stats.addError('socket_error');
      this.ctx.log.debug('socket error', { peer, error: err });
    });
    socket.on('close', () => this.finish(socket, handler));
    if (this.paused || this.ctx.underPressure()) {
      this.paused = true;
      socket.pause();
    }
  }

  private readonly nextTurn = (): void => {
    this.turnStartedAt = 0;
    for (const s of this.yielded) if (!this.paused && this.sockets.has(s)) s.resume();
    this.yielded.clear();
  };

  private finish(socket: Socket, handler: StreamHandler): void {
    this.yielded.delete(socket);
    if (!this.sockets.delete(socket)) return;
    try {
      handler.end();
    } catch (err) {
      this.ctx.stats.addError('handler_threw');
    }
  }

  private readonly onPressure = (_signal: PressureSignal): void => {
    const under = this.ctx.underPressure();
    if (under === this.paused) return;
    this.paused = under;
    for (const s of this.sockets.keys()) {
      if (under) s.pause();
      else s.resume();
    }
    this.ctx.stats.count(under ? 'paused_for_pressure' : 'resumed_after_pressure');
  };
}

/** A bind failure as one clear line naming the instance, transport and address. */
export function bindError(id: string, proto: 'tcp' | 'udp', host: string, port: number, err: NodeJS.ErrnoException): CarbonadoError {
  const where = `${id}: cannot listen on ${proto} ${formatAddress(host, port)}`;
  if (err.code === 'EADDRINUSE') return new CarbonadoError(ErrorCode.ADDRESS_IN_USE, `${where}: address already in use`, { cause: err, plugin: id });
  if (err.code === 'EACCES') return new CarbonadoError(ErrorCode.PLUGIN_START, `${where}: permission denied (ports below 1024 need privileges)`, { cause: err, plugin: id });
  return new CarbonadoError(ErrorCode.PLUGIN_START, `${where}: ${err.message}`, { cause: err, plugin: id });
}
