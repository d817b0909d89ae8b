/** Messages between a UDP receive thread (udp-receive-worker.ts) and its DatagramServer. */

export interface ReceiveWorkerData {
  readonly type: 'udp4' | 'udp6';
  readonly host: string;
  readonly port: number;
  /** SO_RCVBUF in bytes; 0 keeps the OS default */
  readonly recvBufferSize: number;
  /**
   * Shared counters (BigInt64Array over a SharedArrayBuffer): [POSTED] bytes handed to the main
   * thread, [HANDLED] bytes the main thread has handled. The difference is the queue in memory.
   */
  readonly counters: SharedArrayBuffer;
  /** queue bound: beyond it datagrams are dropped and counted, never an unbounded heap */
  readonly maxQueuedBytes: number;
  /** record each datagram's sender (a map lookup per datagram, in the thread) */
  readonly peers: boolean;
}

export const POSTED = 0;
export const HANDLED = 1;

/**
 * Datagrams received since the last batch, packed: datagram i is
 * `bytes[ends[i-1] ?? 0, ends[i])`, sent by `peerAddresses[peerOf[i]]:peerPorts[peerOf[i]]` when
 * peers are recorded (else `peerOf` is empty). `dropped` counts datagrams refused because the
 * queue was full.
 */
export interface DatagramBatch {
  readonly type: 'batch';
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  readonly peerOf: Uint16Array;
  readonly peerAddresses: readonly string[];
  readonly peerPorts: readonly number[];
  readonly count: number;
  readonly dropped: number;
}

/** what a batch costs beyond its bytes (message, array buffers, peer table), for the queue bound */
export const BATCH_OVERHEAD = 512;
/** bytes counted per datagram besides its payload: its end offset and its peer index */
export const PER_DATAGRAM = 6;

/** Memory a batch holds while it waits: its bytes, its index, and a fixed overhead. */
export function batchCost(b: DatagramBatch): number {
  return b.bytes.byteLength + b.count * PER_DATAGRAM + BATCH_OVERHEAD;
}

export type FromReceiver =
  | {
      readonly type: 'bound';
      readonly address: string;
      readonly family: string;
      readonly port: number;
      readonly recvBufferSize: number;
      /** datagrams after the first of each wake-up are read from the descriptor (see Batcher.drain) */
      readonly direct: boolean;
    }
  | { readonly type: 'bind_error'; readonly code: string; readonly message: string }
  | { readonly type: 'socket_error'; readonly message: string }
  | DatagramBatch
  | { readonly type: 'closed' };

export type ToReceiver = { readonly type: 'close' };
