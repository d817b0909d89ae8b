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
import { readSync } from 'node:fs';
import { descriptorOf } from './socket-descriptor.js';
import { parentPort, workerData } from 'node:worker_threads';
import { BATCH_OVERHEAD, HANDLED, PER_DATAGRAM, POSTED, batchCost, type DatagramBatch, type FromReceiver, type ReceiveWorkerData, type ToReceiver } from './udp-receive-protocol.js';

const BATCH_BYTES = 256 * 1024;
const BATCH_DATAGRAMS = 4096;
/** a batch waits at most this long for more datagrams: latency stays in milliseconds */
const BATCH_MS = 2;
/** the largest UDP payload */
const MAX_DATAGRAM = 65_536;
/** datagrams read in one drain at most, so that a close from the main thread is seen between drains */
const DRAIN_MAX = 4096;

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
    if (!this.admit(msg.length)) return;
    this.bytes.set(msg, this.used);
    if (data.peers) this.peerOf[this.count] = this.peerOfDatagram(from);
    this.append(msg.length);
  }

  /**
   * Reads what the socket holds, one datagram per read(2) straight into the batch, until the
   * kernel has no more. Why: the socket's own 'message' path builds a buffer, an address object
   * and an event per datagram, about 6 µs each on a 2-core VM (30 % of a core at 50,000
   * datagrams/s); a read costs about 3.5 µs, and a thread that needs less CPU catches up faster
   * after the scheduler has kept it waiting, before the kernel's buffer fills (measured: with
   * three CPU burners on the same 2 cores, 6-28 % of the datagrams lost before, none after).
   * Only without peers: read(2) does not say who sent the datagram. Returns false when the
   * descriptor cannot be read this way (the caller then stays on the 'message' path).
   */
  drain(fd: number): boolean {
    // each drain ends in one EAGAIN error: without a stack it costs a quarter less
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return this.drainUpTo(fd, DRAIN_MAX);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private drainUpTo(fd: number, max: number): boolean {
    for (let i = 0; i < max; i++) {
      let n: number;
      try {
        // the fill buffer keeps MAX_DATAGRAM spare beyond BATCH_BYTES, and used < BATCH_BYTES here
        n = readSync(fd, this.bytes, this.used, MAX_DATAGRAM, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return true;
        if (code === 'EINTR') continue;
        post({ type: 'socket_error', message: (err as Error).message });
        return false;
      }
      // an empty datagram reads as 0 bytes, and the 'message' path delivers it too
      if (this.admit(n)) this.append(n);
    }
    return true;
  }

  /** Whether a datagram of `length` bytes fits under the queue bound; counts it dropped if not. */
  private admit(length: number): boolean {
    const pending = this.used + length + PER_DATAGRAM * (this.count + 1) + BATCH_OVERHEAD;
    if (this.queued + pending > data.maxQueuedBytes) {
      // the main thread may have caught up since the last look
      this.queued = queuedBytes();
      if (this.queued + pending > data.maxQueuedBytes) {
        this.dropped++;
        this.timer ??= setTimeout(this.flushNow, BATCH_MS);
        return false;
      }
    }
    return true;
  }

  /** Takes the `length` bytes at `used` (already in place) as the next datagram of the batch. */
  private append(length: number): void {
    this.used += length;
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
  // the first datagram of each wake-up comes through 'message' (it is what wakes the thread);
  // the rest are drained from the descriptor when peers need not be recorded
  let fd = data.peers ? undefined : descriptorOf(socket);
  const direct = fd !== undefined;
  socket.on('message', (msg, from) => {
    batcher.add(msg, from);
    if (fd !== undefined && !batcher.drain(fd)) fd = undefined;
  });
  const a = socket.address();
  post({ type: 'bound', address: a.address, family: a.family, port: a.port, recvBufferSize: socket.getRecvBufferSize(), direct });
});

port.on('message', (m: ToReceiver) => {
  if (m.type !== 'close') return;
  socket.close(() => {
    batcher.flush();
    post({ type: 'closed' });
  });
});
