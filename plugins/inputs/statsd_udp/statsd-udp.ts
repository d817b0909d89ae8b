import { readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { InputContext, InputInstance } from '../../../core/index.js';
import { StatsdPacketHandler } from '../../shared/statsd-line/index.js';
import { startModuleWorker } from '../../shared/worker/start-worker.js';
import { HANDLED, batchCost, type DatagramBatch, type FromReceiver, type ReceiveWorkerData } from './receive-protocol.js';
import type { StatsdUdpOptions } from './options.js';

const RESTART_MS = 1000;

/**
 * StatsD over UDP. A receive thread (receive-worker.ts) owns the socket and drains it into
 * memory; each datagram is parsed here, on the event loop, in the batches it hands over.
 * Why the thread: loss happens in the kernel's receive buffer while the event loop is busy
 * elsewhere (a flush, a render), not in parsing; the thread keeps draining the socket meanwhile.
 */
export class StatsdUdpInput implements InputInstance {
  private worker: Worker | undefined;
  private readonly handler: StatsdPacketHandler;
  private readonly counters = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);
  private readonly shared = new BigInt64Array(this.counters);
  private bound: string[] = [];
  private boundPort = 0;
  private stopping = false;
  private onClosed: (() => void) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: InputContext,
    private readonly o: Readonly<StatsdUdpOptions>,
  ) {
    this.handler = new StatsdPacketHandler(ctx, o);
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.spawn(this.o.port);
  }

  /** Starts the receive thread on `port` and waits until its socket is bound. */
  private async spawn(port: number): Promise<void> {
    const workerData: ReceiveWorkerData = {
      type: this.o.host.includes(':') ? 'udp6' : 'udp4',
      host: this.o.host,
      port,
      recvBufferSize: this.o.recvBufferSize,
      counters: this.counters,
      maxQueuedBytes: this.o.receiveQueueBytes,
    };
    const w = startModuleWorker(import.meta.url, 'receive-worker', { workerData });
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
      const message = first.type === 'bind_error' ? first.message : `unexpected ${first.type}`;
      throw new Error(`statsd_udp cannot bind udp ${this.o.host}:${port}: ${message}`);
    }
    w.on('message', (m: FromReceiver) => this.onMessage(m));
    w.on('error', (err) => {
      this.ctx.stats.addError('receive_thread');
      this.ctx.log.error('StatsD receive thread failed', { error: err });
    });
    w.on('exit', () => this.onExit(w));
    this.worker = w;
    this.boundPort = first.port;
    this.reportBuffer(first.recvBufferSize);
    this.bound = [`udp://${first.family === 'IPv6' ? `[${first.address}]` : first.address}:${first.port}`];
    this.ctx.log.info('listening', { address: this.bound[0] });
  }

  private reportBuffer(actual: number): void {
    this.ctx.stats.gauge('recv_buffer_bytes', actual);
    // Linux doubles the size it grants (bookkeeping overhead); less than that means rmem_max capped it
    const expected = process.platform === 'linux' ? this.o.recvBufferSize * 2 : this.o.recvBufferSize;
    if (this.o.recvBufferSize > 0 && actual < expected) {
      this.ctx.log.info('receive buffer capped by the kernel; raise net.core.rmem_max to get the configured size', {
        requested: this.o.recvBufferSize,
        granted: process.platform === 'linux' ? actual / 2 : actual,
      });
    }
  }

  private onMessage(m: FromReceiver): void {
    if (m.type === 'batch') this.onBatch(m);
    else if (m.type === 'socket_error') {
      this.ctx.stats.addError('socket');
      this.ctx.log.limited('socket_error', 'StatsD UDP socket error', { err: m.message });
    } else if (m.type === 'closed') this.onClosed?.();
  }

  private onBatch(m: DatagramBatch): void {
    if (m.dropped > 0) {
      this.ctx.stats.addDropped('receive_queue_full', m.dropped);
      this.ctx.log.limited('receive_queue_full', 'StatsD datagrams dropped: the parser is behind by more than the receive queue holds', { dropped: m.dropped, receiveQueueBytes: this.o.receiveQueueBytes });
    }
    const buf = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    let start = 0;
    for (let i = 0; i < m.count; i++) {
      const end = m.ends[i]!;
      try {
        this.handler.handle(buf.toString('utf8', start, end));
      } catch (err) {
        // the parser does not throw on bad input; this guards against our own bugs
        this.ctx.stats.addError('packet');
        this.ctx.log.limited('packet_error', 'StatsD packet handling failed', { err: String(err) });
      }
      start = end;
    }
    Atomics.add(this.shared, HANDLED, BigInt(batchCost(m)));
  }

  /** A receive thread that dies outside stop() is started again on the same port. */
  private onExit(w: Worker): void {
    if (this.worker !== w || this.stopping) return;
    this.worker = undefined;
    this.ctx.stats.addError('receive_thread');
    this.ctx.log.error('StatsD receive thread exited; restarting it', { port: this.boundPort });
    const retry = (): void => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawn(this.boundPort).catch((err: Error) => {
        this.ctx.log.limited('receive_restart', 'cannot restart the StatsD receive thread; retrying', { error: err });
        this.restartTimer = setTimeout(retry, RESTART_MS);
      });
    };
    this.restartTimer = setTimeout(retry, RESTART_MS);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      // the thread closes the socket and hands over what it still holds before 'closed'
      await new Promise<void>((resolve) => {
        this.onClosed = resolve;
        w.once('exit', () => resolve());
        w.postMessage({ type: 'close' });
      });
      this.onClosed = undefined;
      await w.terminate();
    }
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
