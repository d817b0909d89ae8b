/**
 * The SQLite store's read threads (read-worker.ts): one or two, by the usable cores. A fetch's
 * series go in batches to the thread with the fewest rows queued. A thread that dies fails its
 * reads (the store counts them and skips those series) and is started again by the next read.
 */
import type { Worker } from 'node:worker_threads';
import { abortFlag, usableCores } from '../../../core/index.js';
import { startModuleWorker } from '../../../core/runtime/start-worker.js';
import type { FromReader, RangeRead, ToReader } from './read-protocol.js';

/** series per message: large enough that the hop is noise, small enough to spread over the threads */
const BATCH = 64;

/** A read's grid, or why the database did not give it. */
export type ReadOutcome = Float64Array | Error;

interface Pending {
  readonly resolve: (m: FromReader | Error) => void;
  readonly rows: number;
}

class ReadThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** grid values queued on this thread */
  load = 0;

  constructor(
    private readonly path: string,
    private readonly onError: (err: Error) => void,
  ) {}

  private spawn(): Worker {
    const w = startModuleWorker(import.meta.url, 'read-worker', { workerData: { path: this.path } });
    let failed = false;
    w.on('message', (m: FromReader) => this.settle(m.id, m));
    w.on('error', (err) => {
      failed = true;
      this.onError(err);
    });
    w.on('exit', (code) => {
      const expected = this.worker !== w; // close() lets go of it first
      if (this.worker === w) this.worker = undefined;
      const gone = new Error(`sqlite read thread exited (code ${code})`);
      // ended without an error event (terminated from outside, or exited): a failure all the same
      if (!expected && !failed) this.onError(gone);
      for (const id of [...this.pending.keys()]) this.settle(id, gone);
    });
    w.unref();
    return w;
  }

  private settle(id: number, m: FromReader | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.load -= p.rows;
    if (this.pending.size === 0) this.worker?.unref();
    p.resolve(m);
  }

  private send(m: ToReader, rows: number): Promise<FromReader | Error> {
    const w = (this.worker ??= this.spawn());
    this.load += rows;
    // an idle thread never holds the process open; one with reads pending must, or an await on
    // it in a process with nothing else to do would end the process
    w.ref();
    return new Promise((resolve) => {
      this.pending.set(m.id, { resolve, rows });
      w.postMessage(m);
    });
  }

  async read(reads: RangeRead[], stop?: Int32Array): Promise<ReadOutcome[]> {
    let rows = 0;
    for (const r of reads) rows += r.length;
    const m = await this.send({ type: 'read', id: this.nextId++, reads, ...(stop ? { stop } : {}) }, rows);
    if (m instanceof Error) return reads.map(() => m);
    if (m.type !== 'read') return reads.map(() => new Error('sqlite read thread answered out of turn'));
    const out: ReadOutcome[] = m.values.map((v) => v ?? new Error('sqlite read thread gave no values'));
    for (const f of m.failures) out[f.i] = new Error(f.message);
    return out;
  }

  /** Starts the thread; resolves once it answers (its modules loaded). */
  async warm(): Promise<void> {
    await this.read([]);
  }

  /** Closes the connection after the reads already sent, then the thread. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    await this.send({ type: 'close', id: this.nextId++ }, 0);
    this.worker = undefined;
    await w.terminate();
  }
}

export class ReadPool {
  private readonly threads: ReadThread[];

  constructor(path: string, onError: (err: Error) => void, cores = usableCores()) {
    this.threads = Array.from({ length: Math.max(1, Math.min(2, cores)) }, () => new ReadThread(path, onError));
  }

  async warm(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.warm()));
  }

  /** Every read's grid (or its failure), in the order of `reads`; those not done when `signal` aborts fail. */
  async read(reads: readonly RangeRead[], signal?: AbortSignal): Promise<ReadOutcome[]> {
    const stop = abortFlag(signal);
    try {
      const parts: Promise<ReadOutcome[]>[] = [];
      for (let i = 0; i < reads.length; i += BATCH) {
        let t = this.threads[0]!;
        for (const c of this.threads) if (c.load < t.load) t = c;
        parts.push(t.read(reads.slice(i, i + BATCH), stop.flag));
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
