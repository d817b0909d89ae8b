import {
  DatagramServer,
  NameCache,
  StreamServer,
  type InputContext,
  type InputInstance,
  type StreamHandler,
} from '../../../core/index.js';
import type { CarbonLineOptions } from './options.js';
import { CarbonLineParser, type LineReason, type LineSink } from './line-parser.js';
import { ByteLineParser, RawNameTable } from './byte-lines.js';

/** Carbon plaintext over TCP (LF-framed stream) and UDP (one datagram, Python splitlines). */
export class CarbonLineInput implements InputInstance {
  private readonly tcp: StreamServer | undefined;
  private udp: DatagramServer | undefined;
  private readonly names = new NameCache();
  /** raw bytes → canonical name, shared by the connections (see byte-lines.ts) */
  private readonly rawNames = new RawNameTable();
  /** one parser for every datagram; the sender is remembered only for the log of a bad line */
  private udpParser: CarbonLineParser | undefined;
  private readonly udpFrom = { address: '', port: 0 };

  constructor(
    private readonly ctx: InputContext,
    private readonly opts: Readonly<CarbonLineOptions>,
  ) {
    if (opts.protocols !== 'udp') this.tcp = new StreamServer(ctx, opts, (_socket, peer) => this.connection(peer));
  }

  async start(): Promise<void> {
    if (this.tcp) await this.tcp.start();
    if (this.opts.protocols !== 'tcp') {
      // with port 0 the UDP socket takes the port TCP was given, so one number serves both
      const port = this.tcp?.address()?.port ?? this.opts.port;
      this.udpParser ??= this.parserFor(() => `${this.udpFrom.address}:${this.udpFrom.port}`);
      const udp = new DatagramServer(
        this.ctx,
        { host: this.opts.host, port, recvBufferBytes: this.opts.udpRecvBufferBytes, receiveQueueBytes: this.opts.udpReceiveQueueBytes, label: 'Carbon' },
        (bytes, start, end, peer) => this.onDatagram(bytes.toString('utf8', start, end), peer.address, peer.port),
      );
      try {
        await udp.start();
      } catch (err) {
        await this.tcp?.stop();
        throw err;
      }
      this.udp = udp;
    }
  }

  private onDatagram(text: string, address: string, port: number): void {
    this.ctx.stats.count('datagrams');
    this.udpFrom.address = address;
    this.udpFrom.port = port;
    this.udpParser!.parseSplitlines(text, this.ctx.now());
  }

  async stop(): Promise<void> {
    await this.udp?.stop();
    this.udp = undefined;
    await this.tcp?.stop();
  }

  listening(): string[] {
    const out: string[] = [];
    if (this.tcp) out.push(this.tcp.url());
    if (this.udp) out.push(this.udp.url());
    return out;
  }

  stats(): Record<string, number> {
    const drops = this.udp?.socketDrops();
    return { connections: this.tcp?.connections ?? 0, known_names: Math.max(this.names.size, this.rawNames.size), ...(drops !== undefined ? { socket_drops: drops } : {}) };
  }

  private tooLong(peer: string): void {
    this.ctx.stats.addDropped('line_too_long');
    this.ctx.log.limited('line_too_long', `invalid line (longer than ${this.opts.maxLineBytes} bytes): discarded`, { peer });
  }

  private parserFor(peer: () => string): CarbonLineParser {
    const ctx = this.ctx;
    const sink: LineSink = {
      point: (name, value, time) => {
        ctx.stats.addReceived(1);
        ctx.points.add(name, value, time);
      },
      reject: (reason: LineReason, line: string) => {
        ctx.stats.addDropped(reason);
        ctx.log.limited(reason, `invalid line (${reason.replace(/_/g, ' ')})`, { peer: peer(), line: line.length > 200 ? `${line.slice(0, 200)}…` : line });
      },
    };
    return new CarbonLineParser(this.opts, this.names, sink);
  }

  /**
   * One TCP connection. Bytes up to the last LF of each read are decoded and parsed at once;
   * the tail waits for the next read (decoding only whole lines keeps UTF-8 sequences intact).
   */
  private connection(peer: string): StreamHandler {
    const parser = this.parserFor(() => peer);
    const ctx = this.ctx;
    const bytes = new ByteLineParser(this.opts.maxLineBytes, this.rawNames, this.names, ctx.series, parser, {
      point: (name, value, time, id) => {
        ctx.stats.addReceived(1);
        ctx.points.add(name, value, time, id);
      },
    });
    const max = this.opts.maxLineBytes;
    let tail: Buffer | undefined;
    let skipping = false; // inside an over-long line: discard until the next LF
    return {
      data: (chunk: Buffer) => {
        let from = 0;
        if (skipping) {
          const nl = chunk.indexOf(10);
          if (nl < 0) return;
          skipping = false;
          from = nl + 1;
        }
        const now = this.ctx.now();
        if (tail) {
          // finish the line the previous read left open without copying the whole new chunk
          const nl = chunk.indexOf(10, from);
          if (nl < 0) {
            tail = Buffer.concat([tail, chunk.subarray(from)]);
            if (tail.length > max) {
              tail = undefined;
              this.tooLong(peer);
              skipping = true;
            }
            return;
          }
          const first = Buffer.concat([tail, chunk.subarray(from, nl)]);
          tail = undefined;
          if (first.length > max) this.tooLong(peer);
          else {
            const line = first.toString('utf8');
            parser.parseLine(line, 0, line.length, now);
          }
          from = nl + 1;
        }
        const last = chunk.lastIndexOf(10);
        if (last < from) {
          // no complete line in what is left: keep it for the next read
          const rest = chunk.subarray(from);
          if (rest.length > max) {
            this.tooLong(peer);
            skipping = true;
          } else if (rest.length > 0) tail = Buffer.from(rest);
          return;
        }
        if (last + 1 < chunk.length) {
          const rest = chunk.subarray(last + 1);
          if (rest.length > max) {
            this.tooLong(peer);
            skipping = true;
          } else tail = Buffer.from(rest);
        }
        bytes.parse(chunk, from, last, now);
      },
      end: () => {
        if (tail && tail.length > 0) {
          // carbon discards an unterminated last line: it may be cut short
          this.ctx.stats.addDropped('unterminated_line');
          tail = undefined;
        }
      },
    };
  }
}
