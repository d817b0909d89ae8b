import type { Socket } from 'node:net';
import {
  NameCache,
  StreamServer,
  isBadName,
  type InputContext,
  type InputInstance,
  type StreamHandler,
} from '../../../core/index.js';
import type { CarbonPickleOptions } from './options.js';
import { FrameReader, type FrameBudget } from './frame-reader.js';
import { PickleDecoder, isLimitRefusal, type DatapointSink, type FrameRefusal, type ItemSkip } from './pickle-decoder.js';

/**
 * Carbon's pickle receiver over TCP. Framing (frame-reader.ts) and decoding (pickle-decoder.ts)
 * are socket-free; this class wires them to connections and to the core's counters:
 * - a refused frame (unknown or unsafe opcode, malformed, bad text) is dropped and counted, and
 *   the connection stays open, as carbon does;
 * - a frame over a limit (length, values, depth, memo) closes the connection: the sender is
 *   broken or hostile, and what follows its frame cannot be trusted to be aligned;
 * - a bad item (shape, numbers, name) is skipped and counted, the rest of its frame kept.
 */
export class CarbonPickleInput implements InputInstance {
  private readonly tcp: StreamServer;
  private readonly names = new NameCache();
  private readonly decoder: PickleDecoder;
  private readonly budget: FrameBudget;

  constructor(
    private readonly ctx: InputContext,
    private readonly opts: Readonly<CarbonPickleOptions>,
  ) {
    this.decoder = new PickleDecoder(opts);
    this.budget = { held: 0, max: opts.maxBufferedBytes };
    this.tcp = new StreamServer(ctx, opts, (socket, peer) => this.connection(socket, peer));
  }

  start(): Promise<void> {
    return this.tcp.start();
  }

  stop(): Promise<void> {
    return this.tcp.stop();
  }

  listening(): string[] {
    return [this.tcp.url()];
  }

  stats(): Record<string, number> {
    return { connections: this.tcp.connections, known_names: this.names.size, buffered_bytes: this.budget.held };
  }

  private connection(socket: Socket, peer: string): StreamHandler {
    const ctx = this.ctx;
    const sink = this.sinkFor(peer);
    const reader = new FrameReader(this.opts.maxFrameBytes, this.budget, (buf, start, end) => {
      ctx.stats.count('frames');
      const refusal = this.decoder.decode(buf, start, end, ctx.now(), sink);
      if (refusal !== undefined) this.refused(refusal, peer, end - start, reader, socket);
    });
    return {
      data: (chunk) => {
        const state = reader.push(chunk);
        if (state === 'frame_too_long') {
          this.closeFor('frame_too_long', `frame of ${reader.refusedLength} bytes is over maxFrameBytes (${this.opts.maxFrameBytes}): connection closed`, peer, socket);
        } else if (state === 'over_budget') {
          this.closeFor('buffer_budget', `unfinished frames of all connections are over maxBufferedBytes (${this.opts.maxBufferedBytes}): connection closed`, peer, socket);
        }
      },
      end: () => {
        // an unfinished frame when the connection ends is discarded, as carbon does
        if (reader.close() > 0) ctx.stats.addDropped('frame_unfinished');
      },
    };
  }

  private refused(reason: FrameRefusal, peer: string, bytes: number, reader: FrameReader, socket: Socket): void {
    const detail = this.decoder.lastDetail;
    if (isLimitRefusal(reason)) {
      reader.close();
      this.closeFor(`frame_${reason}`, `frame over a limit (${detail}): connection closed`, peer, socket);
      return;
    }
    if (reason === 'decoder_error') {
      // our bug, not the sender's: an error, not a drop, so it shows up in errors_by
      this.ctx.stats.addError('decoder_error');
      this.ctx.log.error('pickle decoder failed on a frame; frame dropped', { peer, bytes, detail });
      return;
    }
    this.ctx.stats.addDropped(`frame_${reason}`);
    this.ctx.log.limited(`frame_${reason}`, `invalid pickle frame ignored (${detail})`, { peer, bytes });
  }

  private closeFor(reason: string, msg: string, peer: string, socket: Socket): void {
    this.ctx.stats.addDropped(reason);
    this.ctx.stats.count('connections_closed_by_limit');
    this.ctx.log.limited(reason, msg, { peer });
    socket.destroy();
  }

  private sinkFor(peer: string): DatapointSink {
    const { ctx, names } = this;
    return {
      point(raw, time, value) {
        const name = names.resolve(raw);
        if (isBadName(name)) {
          ctx.stats.addDropped(name.bad);
          ctx.log.limited(name.bad, `invalid series name (${name.detail})`, { peer, name: clip(raw) });
          return;
        }
        ctx.stats.addReceived(1);
        ctx.points.add(name, value, time);
      },
      skip(reason: ItemSkip, detail: string) {
        ctx.stats.addDropped(reason);
        ctx.log.limited(reason, `pickle item skipped (${detail})`, { peer });
      },
    };
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
