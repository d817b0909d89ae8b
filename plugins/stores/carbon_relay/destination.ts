/**
 * One destination of the relay: a TCP connection with a bounded memory queue in front of it and
 * a bounded disk queue behind that.
 *
 * Invariants:
 * - Every point handed to `append` is, at any moment, in the memory queue, the disk queue, in
 *   flight, `sent` (counted when the kernel took it) or a drop counter with a reason. Points
 *   written in the last `resendWindowMs` before a connection breaks are queued again; those
 *   already counted as sent are counted as `resent`, so at rest
 *   appended = sent - resent + queued + dropped. (carbon's protocols have no acks; Graphite
 *   stores a repeated (name, time, value) once, so at-least-once is the safe side.)
 * - Order is FIFO per destination: disk segments (older) are sent before the memory queue.
 * - Nothing here throws into `write()`: socket errors close the connection and schedule a
 *   reconnect with exponential backoff.
 */
import { connect, type Socket } from 'node:net';
import type { Logger, InstanceStats } from '../../../core/index.js';
import { Chunk } from './chunk.js';
import { encodePickle, encodePlaintext } from './encode.js';
import type { SpillQueue } from './spill.js';
import type { RingMember } from '../../shared/ring/ring.js';

export interface DestinationSettings {
  readonly member: RingMember;
  /** stable self-metric word, e.g. `127_0_0_1_2003` */
  readonly label: string;
  readonly protocol: 'plaintext' | 'pickle';
  readonly pointsPerFrame: number;
  readonly chunkPoints: number;
  readonly memoryQueuePoints: number;
  /** the disk queue, when overflow is `disk` */
  readonly spill: SpillQueue | undefined;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly resendWindowMs: number;
}

/** times a chunk is queued again after a broken connection before it counts as dropped */
const MAX_RESENDS = 10;

interface InFlight {
  readonly chunk: Chunk;
  readonly at: number;
  acked: boolean;
}

export class Destination {
  private open: Chunk;
  /** sealed chunks waiting in memory, oldest first */
  private queue: Chunk[] = [];
  private memoryPoints = 0;
  /** chunks read back from disk and not yet written */
  private replay: Chunk[] = [];
  /** written chunks kept for the resend window */
  private inflight: InFlight[] = [];
  private inflightPoints = 0;
  /** how often a chunk was queued again after a broken connection */
  private readonly resends = new WeakMap<Chunk, number>();
  private socket: Socket | undefined;
  private connected = false;
  private ended = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private stopping = false;
  private onStopped: (() => void) | undefined;

  constructor(
    private readonly s: DestinationSettings,
    private readonly stats: InstanceStats,
    private readonly log: Logger,
  ) {
    this.open = new Chunk(s.chunkPoints);
  }

  get address(): string {
    return `${this.s.member.host}:${this.s.member.port}`;
  }

  start(): void {
    this.s.spill?.open();
    if (this.s.spill && this.s.spill.points > 0) {
      this.log.info(`${this.address}: ${this.s.spill.points} spilled points from an earlier run will be sent`);
    }
    this.connect();
  }

  append(name: string, value: number, time: number): void {
    if (this.open.full()) this.seal();
    this.open.push(name, value, time);
    this.memoryPoints++;
    if (this.memoryPoints > this.s.memoryQueuePoints) this.overflow();
  }

  /** Sends what is queued on the next turn of the event loop (one flush per tick however many writes). */
  schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private seal(): void {
    if (this.open.length === 0) return;
    this.queue.push(this.open);
    this.open = new Chunk(this.s.chunkPoints);
  }

  /**
   * The memory queue is over its bound: move the oldest chunks to disk (down to half the bound,
   * so segments are few and large) or drop them, counted.
   */
  private overflow(): void {
    this.seal();
    const target = this.s.memoryQueuePoints >> 1;
    const out: Chunk[] = [];
    let moved = 0;
    while (this.memoryPoints - moved > target && this.queue.length > 0) {
      const c = this.queue.shift()!;
      out.push(c);
      moved += c.length;
    }
    this.memoryPoints -= moved;
    this.toDiskOrDrop(out, moved, 'queue_full');
  }

  private toDiskOrDrop(chunks: Chunk[], points: number, reason: string): void {
    if (points === 0) return;
    if (this.s.spill) {
      try {
        const written = this.s.spill.push(chunks);
        if (written > 0) this.count('spilled', written);
      } catch (err) {
        // a full or read-only disk must not break write(): the points are lost, and counted
        this.drop('spill_failed', points);
        this.log.limited(`relay.spill.${this.s.label}`, `${this.address}: cannot spill to disk: ${(err as Error).message}`);
      }
      return;
    }
    this.drop(reason, points);
  }

  drop(reason: string, n: number): void {
    this.stats.addDropped(reason, n);
    this.stats.count(`${this.s.label}.dropped.${reason}`, n);
  }

  private count(what: string, n: number): void {
    this.stats.count(what, n);
    this.stats.count(`${this.s.label}.${what}`, n);
  }

  private next(): Chunk | undefined {
    if (this.replay.length > 0) return this.replay.shift();
    // at stop only the memory queue is offered: the disk queue stays for the next run
    if (this.s.spill && !this.s.spill.empty && !this.stopping) {
      this.replay = this.s.spill.shift(this.s.chunkPoints);
      let n = 0;
      for (const c of this.replay) n += c.length;
      if (n > 0) this.count('replayed', n);
      return this.replay.shift();
    }
    if (this.queue.length === 0) this.seal();
    const c = this.queue.shift();
    if (c) this.memoryPoints -= c.length;
    return c;
  }

  private encode(c: Chunk): Buffer {
    return this.s.protocol === 'pickle' ? encodePickle(c, this.s.pointsPerFrame) : encodePlaintext(c);
  }

  private flush(): void {
    this.flushScheduled = false;
    const sock = this.socket;
    if (!this.connected || !sock || this.ended) return;
    this.pruneInflight();
    while (!sock.writableNeedDrain) {
      const c = this.next();
      if (!c) break;
      const entry: InFlight = { chunk: c, at: Date.now(), acked: false };
      this.inflight.push(entry);
      this.inflightPoints += c.length;
      sock.write(this.encode(c), (err) => {
        // a callback after the socket was replaced belongs to a requeued chunk: not sent
        if (err || sock !== this.socket) return;
        entry.acked = true;
        this.count('sent', c.length);
      });
    }
    // the 'drain' listener schedules the rest; at stop an empty queue means: finish the stream
    if (this.stopping && !sock.writableNeedDrain && this.replay.length === 0 && this.queue.length === 0 && this.open.length === 0) {
      this.ended = true;
      sock.end();
    }
  }

  /** Forgets written chunks older than the resend window (and beyond the memory bound). */
  private pruneInflight(): void {
    const horizon = Date.now() - this.s.resendWindowMs;
    let i = 0;
    while (
      i < this.inflight.length &&
      this.inflight[i]!.acked &&
      (this.inflight[i]!.at < horizon || this.inflightPoints > this.s.memoryQueuePoints)
    ) {
      this.inflightPoints -= this.inflight[i]!.chunk.length;
      i++;
    }
    if (i > 0) this.inflight.splice(0, i);
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.stopping) return;
    const { host, port } = this.s.member;
    const sock = connect({ host, port });
    this.socket = sock;
    this.ended = false;
    sock.setTimeout(this.s.connectTimeoutMs, () => sock.destroy(new Error(`connect timeout after ${this.s.connectTimeoutMs} ms`)));
    sock.once('connect', () => {
      sock.setTimeout(0);
      sock.setKeepAlive(true, 10_000);
      this.connected = true;
      if (this.failures > 0) this.log.info(`${this.address}: connected again after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      this.stats.count(`${this.s.label}.connects`);
      this.schedule();
    });
    sock.on('drain', () => this.schedule());
    // receivers never answer; discard anything they send so the socket cannot stall
    sock.on('data', () => {});
    sock.on('error', (err) => {
      this.stats.addError('connection');
      this.log.limited(`relay.${this.s.label}`, `${this.address}: ${err.message}`, { destination: this.address });
    });
    sock.on('close', () => this.onClose(sock));
  }

  private onClose(sock: Socket): void {
    if (sock !== this.socket) return;
    const graceful = this.ended && sock.writableFinished;
    this.socket = undefined;
    this.connected = false;
    if (graceful) {
      this.inflight = [];
      this.inflightPoints = 0;
    } else {
      this.requeueInflight();
    }
    if (this.stopping) {
      this.onStopped?.();
      return;
    }
    const delay = Math.min(this.s.reconnectMaxMs, this.s.reconnectMinMs * 2 ** Math.min(this.failures, 20));
    this.failures++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  /**
   * A broken connection: what was written recently may never have been read, so queue it again.
   * Only what was written within the resend window (it was forgotten at the next write until
   * now, so an idle destination re-sent old points), and no chunk more than MAX_RESENDS times: a
   * destination that closes the connection on one chunk every time would otherwise get it first
   * at every reconnect, and nothing behind it.
   */
  private requeueInflight(): void {
    this.pruneInflight();
    if (this.inflight.length === 0) return;
    let n = 0;
    let acked = 0;
    const chunks: Chunk[] = [];
    for (const e of this.inflight) {
      // taken back from `sent` (as resent) whether queued again or given up: the accounting above holds
      if (e.acked) acked += e.chunk.length;
      const times = (this.resends.get(e.chunk) ?? 0) + 1;
      if (times > MAX_RESENDS) {
        this.drop('resend_limit', e.chunk.length);
        this.log.limited(`relay.${this.s.label}.resend_limit`, `${this.address}: dropped ${e.chunk.length} points written ${MAX_RESENDS} times, each time followed by a broken connection`, { destination: this.address });
        continue;
      }
      this.resends.set(e.chunk, times);
      n += e.chunk.length;
      chunks.push(e.chunk);
    }
    this.inflight = [];
    this.inflightPoints = 0;
    this.queue = chunks.concat(this.queue);
    this.memoryPoints += n;
    // only points already counted as sent are "resent"; the others were never counted
    if (acked > 0) this.count('resent', acked);
    if (this.memoryPoints > this.s.memoryQueuePoints) this.overflow();
  }

  /**
   * Drains: a connected destination gets the memory queue (until `deadline`), then the stream is
   * ended; everything still held afterwards goes to the disk queue (or is counted as dropped).
   */
  stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.seal();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.spillRemainder();
        resolve();
      };
      const timer = setTimeout(() => {
        if (this.socket) this.socket.destroy();
        else finish();
      }, timeoutMs);
      this.onStopped = finish;
      if (!this.socket) return finish();
      // still connecting: the connect handler flushes and ends, a failure closes; both finish
      if (this.connected) this.flush();
    });
  }

  private spillRemainder(): void {
    this.seal();
    const chunks = [...this.replay, ...this.queue];
    let n = 0;
    for (const c of chunks) n += c.length;
    this.replay = [];
    this.queue = [];
    this.memoryPoints = 0;
    this.toDiskOrDrop(chunks, n, 'shutdown');
  }

  gauges(out: Record<string, number>): void {
    let replay = 0;
    for (const c of this.replay) replay += c.length;
    out[`${this.s.label}.queued_memory`] = this.memoryPoints + replay;
    out[`${this.s.label}.queued_disk`] = this.s.spill?.points ?? 0;
    out[`${this.s.label}.connected`] = this.connected ? 1 : 0;
  }
}
