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

/** Carbon plaintext over TCP (LF-framed stream) and UDP (one datagram, Python splitlines). */
export class CarbonLineInput implements InputInstance {
  private readonly tcp: StreamServer | undefined;
  private udp: DatagramServer | undefined;
  private readonly names = new NameCache();

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
      const udp = new DatagramServer(this.ctx, { host: this.opts.host, port, recvBufferBytes: this.opts.udpRecvBufferBytes }, (msg, r) => this.onDatagram(msg, r.address, r.port));
      try {
        await udp.start();
      } catch (err) {
        await this.tcp?.stop();
        throw err;
      }
      this.udp = udp;
    }
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    this.ctx.stats.count('datagrams');
    this.parserFor(`${address}:${port}`).parseSplitlines(msg.toString('utf8'), this.ctx.now());
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
    return { connections: this.tcp?.connections ?? 0, known_names: this.names.size };
  }

  private parserFor(peer: string): CarbonLineParser {
    const ctx = this.ctx;
    const sink: LineSink = {
      point: (name, value, time) => {
        ctx.stats.addReceived(1);
        ctx.points.add(name, value, time);
      },
      reject: (reason: LineReason, line: string) => {
        ctx.stats.addDropped(reason);
        ctx.log.limited(reason, `invalid line (${reason.replace(/_/g, ' ')})`, { peer, line: line.length > 200 ? `${line.slice(0, 200)}…` : line });
      },
    };
    return new CarbonLineParser(this.opts, this.names, sink);
  }

  /**
   * One TCP connection. Bytes up to the last LF of each read are decoded and parsed at once;
   * the tail waits for the next read (decoding only whole lines keeps UTF-8 sequences intact).
   */
  private connection(peer: string): StreamHandler {
    const parser = this.parserFor(peer);
    const max = this.opts.maxLineBytes;
    let tail: Buffer | undefined;
    let skipping = false; // inside an over-long line: discard until the next LF
    return {
      data: (chunk: Buffer) => {
        let buf = chunk;
        if (skipping) {
          const nl = buf.indexOf(10);
          if (nl < 0) return;
          skipping = false;
          buf = buf.subarray(nl + 1);
        }
        if (tail) {
          buf = Buffer.concat([tail, buf]);
          tail = undefined;
        }
        const last = buf.lastIndexOf(10);
        if (last < 0) {
          if (buf.length > max) {
            this.ctx.stats.addDropped('line_too_long');
            this.ctx.log.limited('line_too_long', 'invalid line (line too long): discarded', { peer, bytes: buf.length });
            skipping = true;
          } else {
            tail = Buffer.from(buf);
          }
          return;
        }
        if (last + 1 < buf.length) {
          const rest = buf.subarray(last + 1);
          if (rest.length > max) {
            this.ctx.stats.addDropped('line_too_long');
            skipping = true;
          } else tail = Buffer.from(rest);
        }
        const text = buf.toString('utf8', 0, last);
        parser.parseLF(text, 0, text.length, this.ctx.now());
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
