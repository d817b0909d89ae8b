/**
 * The query side of the whisper store's file access: a small pool of read worker threads
 * (read-worker.ts) doing synchronous positioned reads. Why threads rather than fs/promises on
 * the main thread: a 1000-series render spent ~0.8 ms per file in six thread-pool round trips and
 * Buffer.readDoubleBE decoding, all on the event loop that also parses ingest; a worker does one
 * open, three or four preads and a DataView decode per file (~25 µs), and the event loop only
 * merges the write-back cache into the arrays it gets back.
 */
import { abortFlag, usableCores } from '../../../core/index.js';
import { startModuleWorker } from '../../../core/runtime/start-worker.js';
import { Worker } from 'node:worker_threads';
import { unpackResults, type ReadResponse, type ReadResult } from './read-protocol.js';

/** files per message: large enough that the hop is noise, small enough to spread over the threads */
const BATCH = 64;

type Pending = { resolve: (r: ReadResult[]) => void; paths: number };

class ReadThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** files queued on this thread: the pool sends each batch to the least loaded one */
  load = 0;

  constructor(private readonly onError: (err: Error) => void) {}

  private spawn(): Worker {
    const w = startModuleWorker(import.meta.url, 'read-worker');
    w.on('message', (m: ReadResponse | { type: 'closed'; id: number }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.load -= p.paths;
      if (this.pending.size === 0) w.unref();
      p.resolve(m.type === 'read' ? unpackResults(m.results) : []);
    });
    w.on('error', (err) => this.onError(err));
    w.on('exit', () => {
      if (this.worker === w) this.worker = undefined;
      // a crashed thread fails its files (counted as read errors by the store), never the process
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        this.load -= p.paths;
        p.resolve(Array.from({ length: p.paths }, () => ({ ok: false, code: 'error', name: 'Error', message: 'read worker exited' })));
      }
    });
    w.unref();
    return w;
  }

  /** Starts the thread; resolves once it answers (its modules loaded). */
  warm(): Promise<unknown> {
    return this.read([], 0, 0, 0, Infinity);
  }

  read(paths: readonly string[], from: number, until: number, now: number, maxPoints: number, stop?: Int32Array): Promise<ReadResult[]> {
    this.worker ??= this.spawn();
    const id = this.nextId++;
    this.load += paths.length;
    // an idle thread never holds the process open; one with reads pending must, or an await on
    // it in a process with nothing else to do would end the process
    this.worker.ref();
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, paths: paths.length });
      this.worker!.postMessage({ type: 'read', id, paths, from, until, now, maxPoints, ...(stop ? { stop } : {}) });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      this.pending.set(id, { resolve: () => resolve(), paths: 0 });
      w.ref();
      w.postMessage({ type: 'close', id });
    });
    this.worker = undefined;
    await w.terminate();
  }
}

/** One pool per store instance (no module-level state). Threads start lazily or on warm(). */
export class ReadPool {
  private readonly threads: ReadThread[];

  /** `cores`: the usable cores; the pool takes one thread per core, at most 2. */
  constructor(onError: (err: Error) => void, cores = usableCores()) {
    this.threads = Array.from({ length: Math.max(1, Math.min(2, cores)) }, () => new ReadThread(onError));
  }

  /** Starts the threads now, so that the first query does not pay their start-up. */
  async warm(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.warm()));
  }

  /**
   * Reads every path over one range; results in the order of `paths`. Each batch allocates at
   * most `maxPoints` values; files past it answer 'too_large'.
   */
  async read(paths: readonly string[], from: number, until: number, now: number, maxPoints = Infinity, signal?: AbortSignal): Promise<ReadResult[]> {
    // shared with the threads: a batch already queued sees the caller give up before each file
    const stop = abortFlag(signal);
    try {
      const parts: Promise<ReadResult[]>[] = [];
      for (let i = 0; i < paths.length; i += BATCH) {
        let t = this.threads[0]!;
        for (const c of this.threads) if (c.load < t.load) t = c;
        parts.push(t.read(paths.slice(i, i + BATCH), from, until, now, maxPoints, stop.flag));
      }
      return parts.length === 1 ? await parts[0]! : (await Promise.all(parts)).flat();
    } finally {
      stop.done();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
