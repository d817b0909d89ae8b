import net from 'node:net';
import type { InputContext, InputInstance, PressureSignal } from '../../../core/index.js';
import { StatsdPacketHandler } from '../../shared/statsd-line/index.js';
import type { StatsdTcpOptions } from './options.js';

const NL = 10;

/** Per-connection framing state: bytes after the last newline, or a too-long line being skipped. */
interface Conn {
  readonly socket: net.Socket;
  pending: Buffer | undefined;
  skipping: boolean;
}

/**
 * Newline-delimited StatsD over TCP. Like Etsy's servers/tcp, each read is cut at its last newline
 * and the complete lines form one packet (one packets_received). Unlike Etsy, a final line without
 * a newline is parsed when the client closes, and lines are bounded (maxLineBytes).
 * While any store reports pressure, every socket is paused: TCP flow control then slows the
 * senders instead of anything being dropped.
 */
export class StatsdTcpInput implements InputInstance {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private readonly handler: StatsdPacketHandler;
  private paused = false;
  private bound: string[] = [];

  constructor(
    private readonly ctx: InputContext,
    private readonly o: Readonly<StatsdTcpOptions>,
  ) {
    this.handler = new StatsdPacketHandler(ctx, o);
  }

  async start(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    server.maxConnections = this.o.maxConnections;
    server.on('drop', () => {
      this.ctx.stats.addDropped('connection_refused');
      this.ctx.log.limited('connection_refused', 'StatsD TCP connection refused: maxConnections reached', { maxConnections: this.o.maxConnections });
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`statsd_tcp cannot listen on tcp ${this.o.host}:${this.o.port}: ${err.message}`));
      server.once('error', onError);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => {
      this.ctx.stats.addError('server');
      this.ctx.log.limited('server_error', 'StatsD TCP server error', { err: err.message });
    });
    this.ctx.bus.on('pressure', this.onPressure);
    this.paused = this.ctx.underPressure();
    const a = server.address() as net.AddressInfo;
    this.bound = [`tcp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`];
    this.server = server;
    this.ctx.log.info('listening', { address: this.bound[0] });
  }

  async stop(): Promise<void> {
    this.ctx.bus.off('pressure', this.onPressure);
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const c of this.conns) {
      this.finish(c);
      c.socket.destroy();
    }
    this.conns.clear();
    await closed;
    this.ctx.samples.flush();
  }

  listening(): string[] {
    return this.bound;
  }

  stats(): Record<string, number> {
    return { connections: this.conns.size, paused: this.paused ? 1 : 0 };
  }

  private accept(socket: net.Socket): void {
    const c: Conn = { socket, pending: undefined, skipping: false };
    this.conns.add(c);
    this.ctx.stats.count('connections_accepted');
    if (this.paused) socket.pause();
    socket.on('data', (chunk: Buffer) => this.data(c, chunk));
    socket.on('end', () => {
      this.finish(c);
      socket.end();
    });
    socket.on('error', (err) => {
      this.ctx.stats.addError('socket');
      this.ctx.log.limited('socket_error', 'StatsD TCP connection error', { err: err.message });
    });
    socket.on('close', () => this.conns.delete(c));
  }

  private data(c: Conn, chunk: Buffer): void {
    let start = 0;
    if (c.skipping) {
      // the rest of a too-long line ends at the first newline
      const nl = chunk.indexOf(NL);
      if (nl < 0) return;
      start = nl + 1;
      c.skipping = false;
    }
    const last = chunk.lastIndexOf(NL);
    if (last < start) {
      this.keep(c, chunk.subarray(start));
      return;
    }
    const head = c.pending?.length ?? 0;
    let packet: Buffer;
    // only a read of more than maxLineBytes can hold a line that long: others skip the scan
    if (head + last + 1 - start > this.o.maxLineBytes) packet = this.boundedLines(c.pending, chunk, start, last);
    else packet = c.pending !== undefined ? Buffer.concat([c.pending, chunk.subarray(start, last + 1)]) : chunk.subarray(start, last + 1);
    c.pending = undefined;
    if (packet.length > 0) this.packet(packet);
    if (last + 1 < chunk.length) this.keep(c, chunk.subarray(last + 1));
  }

  /**
   * The complete lines of a read (the first continuing `pending`), less those longer than
   * maxLineBytes: a line is refused by its length however the stream was cut into reads.
   */
  private boundedLines(pending: Buffer | undefined, chunk: Buffer, start: number, last: number): Buffer {
    const parts: Buffer[] = [];
    let run = start; // start of the current run of accepted lines
    let keepPending = pending !== undefined;
    for (let from = start; from <= last; ) {
      const nl = chunk.indexOf(NL, from);
      const length = nl - from + (from === start ? (pending?.length ?? 0) : 0);
      if (length > this.o.maxLineBytes) {
        if (from === start) keepPending = false;
        else parts.push(chunk.subarray(run, from));
        run = nl + 1;
        this.refuseLongLine();
      }
      from = nl + 1;
    }
    if (run <= last) parts.push(chunk.subarray(run, last + 1));
    if (keepPending) parts.unshift(pending!);
    return Buffer.concat(parts);
  }

  private refuseLongLine(): void {
    this.handler.refusedLine('line_too_long');
    this.ctx.log.limited('line_too_long', 'StatsD TCP line longer than maxLineBytes dropped', { maxLineBytes: this.o.maxLineBytes });
  }

  /** Bytes after the last newline wait for the next read; too many of them are a line too long. */
  private keep(c: Conn, tail: Buffer): void {
    if (c.skipping) return;
    const size = (c.pending?.length ?? 0) + tail.length;
    if (size > this.o.maxLineBytes) {
      c.pending = undefined;
      c.skipping = true;
      this.refuseLongLine();
      return;
    }
    // copy: the socket's chunk may be a slice of a pooled buffer
    c.pending = c.pending === undefined ? Buffer.from(tail) : Buffer.concat([c.pending, tail]);
  }

  private finish(c: Conn): void {
    if (c.pending !== undefined && !c.skipping) this.packet(c.pending);
    c.pending = undefined;
  }

  private packet(buf: Buffer): void {
    try {
      this.handler.handle(buf.toString('utf8'));
    } catch (err) {
      this.ctx.stats.addError('packet');
      this.ctx.log.limited('packet_error', 'StatsD packet handling failed', { err: String(err) });
    }
  }

  private readonly onPressure = (_signal: PressureSignal): void => {
    const under = this.ctx.underPressure();
    if (under === this.paused) return;
    this.paused = under;
    if (under) this.ctx.stats.count('pressure_pauses');
    for (const c of this.conns) {
      if (under) c.socket.pause();
      else c.socket.resume();
    }
  };
}
