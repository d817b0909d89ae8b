import { readFile } from 'node:fs/promises';
import { startModuleWorker } from '../../../core/runtime/start-worker.js';
import { Worker } from 'node:worker_threads';
import { emptyResults, type PersistRequest, type PersistResponse, type PersistResults } from './persist-protocol.js';

/**
 * How many files each persist worker may keep open: three quarters of the process's descriptor
 * limit (Node raises the soft limit to the hard one at start-up) less 64, shared by the workers;
 * the rest is for sockets, the WAL and queries. Why it matters: the persister visits every series once per
 * pass, so an LRU smaller than a worker's share of the series reopens a file on every update
 * (measured: a third of a worker's time in open() at 10,000 series with a 1,024-file LRU).
 */
export async function openFileBudget(threads: number): Promise<number> {
  let limit = 1024;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(await readFile('/proc/self/limits', 'utf8'));
    if (m) limit = m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    /* not Linux: assume the common default */
  }
  // the rest of the process (sockets, the WAL, read threads, V8) keeps ~40 descriptors: a floor
  // that ignored them left nothing for accept() under a low limit (ulimit -n 120)
  return Math.max(16, Math.min(1 << 16, Math.floor(((limit - 64) * 3) / 4 / Math.max(1, threads))));
}

type Pending = { resolve: (r: PersistResults) => void; reject: (e: Error) => void };

/**
 * The main-thread side of the persist worker: sends chunks, resolves their results. One worker
 * per store instance (no module-level state); a crash of the worker fails the chunks in flight,
 * whose points go back to the cache, and a new worker is started on the next chunk.
 */
export class PersistWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly onError: (err: Error) => void) {}

  private spawn(): Worker {
    const w = startModuleWorker(import.meta.url, 'persist-worker');
    w.on('message', (m: PersistResponse | { type: 'closed'; id: number }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(m.type === 'persisted' ? m.results : emptyResults(0));
    });
    w.on('error', (err) => {
      this.onError(err);
    });
    w.on('exit', () => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new Error('persist worker exited'));
      }
    });
    w.unref();
    return w;
  }

  /** Starts the thread now, so that its start-up cost is not paid during the first ingest. */
  warm(): void {
    this.worker ??= this.spawn();
  }

  run(req: Omit<PersistRequest, 'type' | 'id'>): Promise<PersistResults> {
    this.worker ??= this.spawn();
    const id = this.nextId++;
    const msg: PersistRequest = { type: 'persist', id, ...req };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage(msg, [msg.times.buffer as ArrayBuffer, msg.values.buffer as ArrayBuffer, msg.offsets.buffer as ArrayBuffer, msg.createSpec.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      this.pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
      w.postMessage({ type: 'close', id });
    });
    this.worker = undefined;
    await w.terminate();
  }
}
