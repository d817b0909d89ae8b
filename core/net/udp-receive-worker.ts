/**
 * A UDP receive thread: owns the socket, drains it into memory and hands the datagrams to the main
 * thread in batches. Why: the kernel's receive buffer holds well under a second of datagrams at
 * the rates metric senders reach (~0.15 s of one-line datagrams at 50,000/s with an 8 MiB
 * buffer, a few hundred datagrams with the OS default), so any longer stretch in which the event
 * loop is busy elsewhere (a heavy render, a flush, a cold process compiling its hot paths) lost
 * datagrams although the main thread had CPU to spare on average. This thread does nothing else,
 * so the socket is drained while the main thread works; the in-memory queue between them is
 * bounded (`maxQueuedBytes`), beyond it datagrams are dropped and counted.
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { BATCH_OVERHEAD, HANDLED, PER_DATAGRAM, POSTED, batchCost, type DatagramBatch, type FromReceiver, type ReceiveWorkerData, type ToReceiver } from './udp-receive-protocol.js';

const BATCH_BYTES = 256 * 1024;
const BATCH_DATAGRAMS = 4096;
/** a batch waits at most this long for more datagrams: latency stays in milliseconds */
const BATCH_MS = 2;
/** the largest UDP payload */
const MAX_DATAGRAM = 65_536;

const data = workerData as ReceiveWorkerData;
const port = parentPort!;
const counters = new BigInt64Array(data.counters);
const post = (m: FromReceiver, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

/** The batch being filled, and the queue's size as last seen (one shared-counter read per batch, not per datagram). */
class Batcher {
  private readonly bytes = new Uint8Array(BATCH_BYTES + MAX_DATAGRAM);
  private readonly ends = new Uint32Array(BATCH_DATAGRAMS);
  private readonly peerOf = new Uint16Array(data.peers ? BATCH_DATAGRAMS : 0);
  /** this batch's senders: `address port` → index */
  private readonly peerIndex = new Map<string, number>();
  private peerAddresses: string[] = [];
  private peerPorts: number[] = [];
  private count = 0;
  private used = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  /** bytes handed over and not yet handled, as of the last flush */
  private queued = 0;
  private readonly flushNow = (): void => this.flush();

  add(msg: Buffer, from: RemoteInfo): void {
    const pending = this.used + msg.length + PER_DATAGRAM * (this.count + 1) + BATCH_OVERHEAD;
    if (this.queued + pending > data.maxQueuedBytes) {
      // the main thread may have caught up since the last look
      this.queued = queuedBytes();
      if (this.queued + pending > data.maxQueuedBytes) {
        this.dropped++;
        this.timer ??= setTimeout(this.flushNow, BATCH_MS);
        return;
      }
    }
    this.bytes.set(msg, this.used);
    this.used += msg.length;
    if (data.peers) this.peerOf[this.count] = this.peerOfDatagram(from);
    this.ends[this.count++] = this.used;
    if (this.used >= BATCH_BYTES || this.count === BATCH_DATAGRAMS) this.flush();
    else this.timer ??= setTimeout(this.flushNow, BATCH_MS);
  }

  private peerOfDatagram(from: RemoteInfo): number {
    const key = `${from.address} ${from.port}`;
    let i = this.peerIndex.get(key);
    if (i === undefined) {
      i = this.peerAddresses.push(from.address) - 1;
      this.peerPorts.push(from.port);
      this.peerIndex.set(key, i);
    }
    return i;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0 && this.dropped === 0) return;
    // exact-size copies go out (the fill buffers stay here): a batch of 2 ms holds a few KiB, and
    // what waits in the queue must be what the bound counts
    const bytes = this.bytes.slice(0, this.used);
    const ends = this.ends.slice(0, this.count);
    const peerOf = this.peerOf.slice(0, data.peers ? this.count : 0);
    const batch: DatagramBatch = { type: 'batch', bytes, ends, peerOf, peerAddresses: this.peerAddresses, peerPorts: this.peerPorts, count: this.count, dropped: this.dropped };
    Atomics.add(counters, POSTED, BigInt(batchCost(batch)));
    post(batch, [bytes.buffer as ArrayBuffer, ends.buffer as ArrayBuffer, peerOf.buffer as ArrayBuffer]);
    this.count = 0;
    this.used = 0;
    this.dropped = 0;
    if (this.peerAddresses.length > 0) {
      this.peerIndex.clear();
      this.peerAddresses = [];
      this.peerPorts = [];
    }
    this.queued = queuedBytes();
  }
}

function queuedBytes(): number {
  return Number(Atomics.load(counters, POSTED) - Atomics.load(counters, HANDLED));
}

const batcher = new Batcher();

const socket = dgram.createSocket({ type: data.type, ...(data.recvBufferSize > 0 ? { recvBufferSize: data.recvBufferSize } : {}) });
socket.once('error', (err: NodeJS.ErrnoException) => {
  post({ type: 'bind_error', code: err.code ?? 'error', message: err.message });
});
socket.bind({ address: data.host, port: data.port, exclusive: true }, () => {
  socket.removeAllListeners('error');
  socket.on('error', (err) => post({ type: 'socket_error', message: err.message }));
  socket.on('message', (msg, from) => batcher.add(msg, from));
  const a = socket.address();
  post({ type: 'bound', address: a.address, family: a.family, port: a.port, recvBufferSize: socket.getRecvBufferSize() });
});

port.on('message', (m: ToReceiver) => {
  if (m.type !== 'close') return;
  socket.close(() => {
    batcher.flush();
    post({ type: 'closed' });
  });
});
