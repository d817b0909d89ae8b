/** Messages between the StatsD receive thread (receive-worker.ts) and the input (receive-thread.ts). */

export interface ReceiveWorkerData {
  readonly type: 'udp4' | 'udp6';
  readonly host: string;
  readonly port: number;
  /** SO_RCVBUF in bytes; 0 keeps the OS default */
  readonly recvBufferSize: number;
  /**
   * Shared counters (BigInt64Array over a SharedArrayBuffer): [0] bytes handed to the main
   * thread, [1] bytes the main thread has handled. The difference is the queue in memory.
   */
  readonly counters: SharedArrayBuffer;
  /** queue bound: beyond it datagrams are dropped and counted, never an unbounded heap */
  readonly maxQueuedBytes: number;
}

export const POSTED = 0;
export const HANDLED = 1;

/**
 * Datagrams received since the last batch, packed: datagram i is
 * `bytes[ends[i-1] ?? 0, ends[i])`. `dropped` counts datagrams refused because the queue was full.
 */
export interface DatagramBatch {
  readonly type: 'batch';
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  readonly count: number;
  readonly dropped: number;
}

/** what a batch costs beyond its bytes (message, two array buffers), for the queue bound */
export const BATCH_OVERHEAD = 512;

/** Memory a batch holds while it waits: its bytes, its ends, and a fixed overhead. */
export function batchCost(b: DatagramBatch): number {
  return b.bytes.byteLength + b.ends.byteLength + BATCH_OVERHEAD;
}

export type FromReceiver =
  | { readonly type: 'bound'; readonly address: string; readonly family: string; readonly port: number; readonly recvBufferSize: number }
  | { readonly type: 'bind_error'; readonly code: string; readonly message: string }
  | { readonly type: 'socket_error'; readonly message: string }
  | DatagramBatch
  | { readonly type: 'closed' };

export type ToReceiver = { readonly type: 'close' };
