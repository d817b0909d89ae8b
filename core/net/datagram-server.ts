import type { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { InputContext } from '../contracts/input.js';
import { startModuleWorker } from '../runtime/start-worker.js';
import { formatAddress } from './listen.js';
import { bindError } from './stream-server.js';
import { HANDLED, batchCost, type DatagramBatch, type FromReceiver, type ReceiveWorkerData } from './udp-receive-protocol.js';

export interface DatagramServerOptions {
  readonly host: string;
  readonly port: number;
  /** SO_RCVBUF in bytes; 0 keeps the OS default */
  readonly recvBufferBytes: number;
  /** datagrams received but not yet handled, at most, in bytes (default 64 MiB) */
  readonly receiveQueueBytes?: number;
  /** tell the handler who sent each datagram (default true; costs the receive thread a lookup per datagram) */
  readonly peers?: boolean;
  /** how the plugin names its traffic in log lines (default 'UDP') */
  readonly label?: string;
}

/** The sender of a datagram; address '' and port 0 when the server does not record peers. */
export interface DatagramPeer {
  readonly address: string;
  readonly port: number;
}

/**
 * Called for each datagram, on the event loop: the datagram is `bytes[start, end)`, and `bytes`
 * (the whole batch) is valid only during the call. Why offsets rather than a Buffer per datagram:
 * a view costs an allocation per datagram, measurable at 100,000 datagrams/s; decode with
 * `bytes.toString('utf8', start, end)` or take `bytes.subarray(start, end)` as needed.
 */
export type DatagramHandler = (bytes: Buffer, start: number, end: number, peer: DatagramPeer) => void;

export const DEFAULT_RECEIVE_QUEUE_BYTES = 64 * 1024 * 1024;
const RESTART_MS = 1000;
const NO_PEER: DatagramPeer = Object.freeze({ address: '', port: 0 });

/** An address as /proc/net/udp{,6} writes it: the bytes of each 32-bit word in host (little-endian) order, in hex. */
export function procAddress(host: string, v6: boolean): string {
  const bytes = v6 ? ipv6Bytes(host) : host.split('.').map(Number);
  let out = '';
  for (let w = 0; w < bytes.length; w += 4) {
    for (let i = 3; i >= 0; i--) out += bytes[w + i]!.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function ipv6Bytes(host: string): number[] {
  const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * A UDP listener for datagram inputs. A receive thread (udp-receive-worker.ts) owns the socket
 * and drains it into a bounded in-memory queue; the handler runs here, on the event loop, over the
 * batches it hands over. Why the thread: datagrams are lost in the kernel's receive buffer while
 * the event loop is busy elsewhere, not in parsing. Gives clear bind errors, IPv4 or IPv6 by host,
 * the receive buffer size (gauge `recv_buffer_bytes`), drops past the queue bound counted
 * (`dropped_by.receive_queue_full`), and a thread that dies restarted on the same port
 * (`errors_by.receive_thread`).
 */
export class DatagramServer {
  private worker: Worker | undefined;
  private readonly counters = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);
  private readonly shared = new BigInt64Array(this.counters);
  private bound: { host: string; port: number } | undefined;
  private direct = false;
  private stopping = false;
  private onClosed: (() => void) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly label: string;
  private readonly queueBytes: number;

  constructor(
    private readonly ctx: InputContext,
    private readonly opts: DatagramServerOptions,
    private readonly onMessage: DatagramHandler,
  ) {
    this.label = opts.label ?? 'UDP';
    this.queueBytes = opts.receiveQueueBytes ?? DEFAULT_RECEIVE_QUEUE_BYTES;
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.spawn(this.opts.port);
  }

  /** Starts the receive thread on `port` and waits until its socket is bound. */
  private async spawn(port: number): Promise<void> {
    const workerData: ReceiveWorkerData = {
      type: isIPv6(this.opts.host) ? 'udp6' : 'udp4',
      host: this.opts.host,
      port,
      recvBufferSize: this.opts.recvBufferBytes,
      counters: this.counters,
      maxQueuedBytes: this.queueBytes,
      peers: this.opts.peers ?? true,
    };
    const w = startModuleWorker(import.meta.url, 'udp-receive-worker', { workerData });
    let onMessage!: (m: FromReceiver) => void;
    let onError!: (err: Error) => void;
    let onExit!: (code: number) => void;
    const first = await new Promise<FromReceiver>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`receive thread exited with ${code} before binding`));
      w.once('message', onMessage);
      w.once('error', onError);
      w.once('exit', onExit);
    }).catch((err: Error) => ({ type: 'bind_error', code: 'error', message: err.message }) as const);
    w.off('message', onMessage);
    w.off('error', onError);
    w.off('exit', onExit);
    if (first.type !== 'bound') {
      await w.terminate();
      const err: NodeJS.ErrnoException = new Error(first.type === 'bind_error' ? first.message : `unexpected ${first.type}`);
      if (first.type === 'bind_error') err.code = first.code;
      throw bindError(this.ctx.id, 'udp', this.opts.host, port, err);
    }
    w.on('message', (m: FromReceiver) => this.fromThread(m));
    w.on('error', (err) => {
      this.ctx.stats.addError('receive_thread');
      this.ctx.log.error(`${this.label} receive thread failed`, { error: err });
    });
    w.on('exit', () => this.onExit(w));
    this.worker = w;
    this.bound = { host: first.address, port: first.port };
    this.direct = first.direct;
    this.reportBuffer(first.recvBufferSize);
  }

  private reportBuffer(actual: number): void {
    // Linux reports twice the size it granted (bookkeeping overhead): the gauge is in the units of
    // the option, so that a capped buffer reads as less than what was configured
    const granted = process.platform === 'linux' ? actual / 2 : actual;
    this.ctx.stats.gauge('recv_buffer_bytes', granted);
    const asked = this.opts.recvBufferBytes;
    if (asked > 0 && granted < asked) {
      this.ctx.log.info('receive buffer capped by the kernel; raise net.core.rmem_max to get the configured size', { requested: asked, granted });
    }
  }

  private fromThread(m: FromReceiver): void {
    if (m.type === 'batch') this.onBatch(m);
    else if (m.type === 'socket_error') {
      this.ctx.stats.addError('socket_error');
      this.ctx.log.limited('udp_error', `${this.label} socket error`, { error: m.message });
    } else if (m.type === 'closed') this.onClosed?.();
  }

  private onBatch(m: DatagramBatch): void {
    if (m.dropped > 0) {
      this.ctx.stats.addDropped('receive_queue_full', m.dropped);
      this.ctx.log.limited('receive_queue_full', `${this.label} datagrams dropped: the event loop is behind by more than the receive queue holds`, {
        dropped: m.dropped,
        receiveQueueBytes: this.queueBytes,
      });
    }
    const buf = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    const peers = m.peerOf.length > 0 ? m.peerAddresses.map((address, i) => ({ address, port: m.peerPorts[i]! })) : undefined;
    let start = 0;
    for (let i = 0; i < m.count; i++) {
      const end = m.ends[i]!;
      const peer = peers ? peers[m.peerOf[i]!]! : NO_PEER;
      try {
        this.onMessage(buf, start, end, peer);
      } catch (err) {
        // handlers count bad input themselves; this guards against their bugs
        this.ctx.stats.addError('handler_threw');
        this.ctx.log.limited('handler_threw', 'datagram handler failed', { peer: peer.address, error: err as Error });
      }
      start = end;
    }
    Atomics.add(this.shared, HANDLED, BigInt(batchCost(m)));
  }

  /** A receive thread that dies outside stop() is started again on the same port. */
  private onExit(w: Worker): void {
    if (this.worker !== w || this.stopping) return;
    this.worker = undefined;
    const port = this.bound?.port ?? this.opts.port;
    this.ctx.stats.addError('receive_thread');
    this.ctx.log.error(`${this.label} receive thread exited; restarting it`, { port });
    const retry = (): void => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawn(port).catch((err: Error) => {
        this.ctx.log.limited('receive_restart', `cannot restart the ${this.label} receive thread; retrying`, { error: err });
        this.restartTimer = setTimeout(retry, RESTART_MS);
      });
    };
    this.restartTimer = setTimeout(retry, RESTART_MS);
  }

  /** For tests: the receive thread, to kill it. */
  get receiveThread(): Worker | undefined {
    return this.worker;
  }

  /** Whether the receive thread reads datagrams straight from the descriptor (Linux and macOS, without peers). */
  get readsDirectly(): boolean {
    return this.direct;
  }

  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /**
   * Datagrams the kernel dropped on this server's socket because its receive buffer was full (the
   * `drops` of /proc/net/udp for the bound address and port), since the socket was opened: the
   * loss no user-space counter sees. undefined where /proc is not there (not Linux) or the
   * socket is not found.
   */
  socketDrops(): number | undefined {
    const b = this.bound;
    if (!b) return undefined;
    const v6 = isIPv6(b.host);
    let table: string;
    try {
      table = readFileSync(v6 ? '/proc/net/udp6' : '/proc/net/udp', 'latin1');
    } catch {
      return undefined;
    }
    const port = b.port.toString(16).toUpperCase().padStart(4, '0');
    const addr = procAddress(b.host, v6);
    let drops: number | undefined;
    // columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    for (const line of table.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13 || cols[1] !== `${addr}:${port}`) continue;
      drops = (drops ?? 0) + Number(cols[12]);
    }
    return drops;
  }

  url(): string {
    const a = this.address();
    return a ? `udp://${formatAddress(a.host, a.port)}` : '';
  }

  /** Closes the socket; what the thread still holds is handled before this resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      await new Promise<void>((resolve) => {
        this.onClosed = resolve;
        w.once('exit', () => resolve());
        w.postMessage({ type: 'close' });
      });
      this.onClosed = undefined;
      await w.terminate();
    }
    this.bound = undefined;
  }
}
