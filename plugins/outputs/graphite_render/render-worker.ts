/**
 * The main thread's side of the render worker (eval-worker.ts). Functions run synchronously over
 * their arrays: on the main thread one `summarize(…, "1s")` over 18 M points held the event loop
 * for 1.5 s, and ten concurrent 12 M-point renders held /version for 12 s, with ingestion, StatsD
 * flushes and every other request waiting behind them. The worker computes; the main thread only
 * answers its store calls (reads are I/O and the stores' own threads) and formats the answer.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker, type EventStore, type QueryStore } from '../../../core/index.js';
import { ExprEvalError, type PointPool } from './expr/index.js';
import { fromWire, toWire, type EvalRequest, type FromWorker, type StoreMethod, type ToWorker } from './eval-wire.js';
import type { RenderSeries } from './formats.js';
import { MAX_TIMER_MS } from './render-handler.js';

interface Job {
  readonly worker: Worker;
  readonly req: EvalRequest;
  readonly store: QueryStore;
  readonly events: EventStore | undefined;
  readonly resolve: (targets: RenderSeries[][]) => void;
  readonly reject: (err: Error) => void;
  readonly deadline: number;
  timer: NodeJS.Timeout;
  /** store calls of this render the main thread is still answering: the worker waits, it does not compute */
  pendingCalls: number;
  /**
   * whether the worker has begun it. One not begun when its worker is ended for another render's
   * overrun is sent to another worker: nothing of it ran, and nothing of its budget was charged.
   */
  begun: boolean;
}

/**
 * A render still computing at its deadline (its client gets the 422) sends later renders to a
 * new worker, and if it is still computing this long after, its worker is ended: the only way a
 * computation can be stopped. A single movingWindow(x, 3000, "stddev") over 144,000 points
 * computes for 8 s, and every render behind it would wait.
 */
const OVERTIME_MS = 1000;

export class RenderWorker {
  /**
   * the workers renders go to, least busy first: a render computing for seconds in one leaves
   * the others for the rest of a dashboard's panels
   */
  private readonly workers: Array<Worker | undefined>;
  private nextId = 1;
  private readonly jobs = new Map<number, Job>();
  private stopping = false;
  /** stop() waiting for the last render in progress */
  private drained: (() => void) | undefined;
  /** workers already told to end: several overrunning renders in one worker end it once */
  private readonly ending = new WeakSet<Worker>();
  /**
   * when each worker last showed it was not stuck in a computation: a render sent to it, or a
   * message from it. One computing for seconds sends nothing.
   */
  private readonly lastHeard = new WeakMap<Worker, number>();

  constructor(
    private readonly pool: PointPool,
    threads: number,
    private readonly onError: (err: Error) => void,
    private readonly onOvertime: () => void,
  ) {
    this.workers = new Array<Worker | undefined>(threads).fill(undefined);
  }

  /** the series of every target, in order; rejects with the error evaluation threw */
  evaluate(req: EvalRequest, store: QueryStore, events: EventStore | undefined): Promise<RenderSeries[][]> {
    if (this.stopping) return Promise.reject(new ExprEvalError('the server is stopping', 503));
    return new Promise((resolve, reject) => this.send(req, store, events, resolve, reject));
  }

  private send(req: EvalRequest, store: QueryStore, events: EventStore | undefined, resolve: Job['resolve'], reject: Job['reject']): void {
    const worker = this.leastBusy();
    const id = this.nextId++;
    // an idle worker never holds the process open; one with work must
    worker.ref();
    const timer = setTimeout(() => this.pastDeadline(id), Math.min(MAX_TIMER_MS, Math.max(0, req.deadline - Date.now())));
    timer.unref();
    this.jobs.set(id, { worker, req, store, events, resolve, reject, deadline: req.deadline, timer, pendingCalls: 0, begun: false });
    this.lastHeard.set(worker, performance.now());
    worker.postMessage({ t: 'eval', id, req } satisfies ToWorker);
  }

  /**
   * Starts the first worker now rather than at the first render: a thread takes descriptors, and
   * a store that has since filled the descriptor table (EMFILE) left none for it, so that render
   * failed with 503.
   */
  warm(): void {
    if (!this.stopping && this.workers[0] === undefined) this.workers[0] = this.spawn();
  }

  /**
   * Lets the renders in progress finish (each is bounded by its deadline and the overtime rule),
   * then ends the worker. Renders asked for from now on answer 503 at once: the HTTP server still
   * takes requests while the outputs stop, and a dashboard that keeps rendering would otherwise
   * hold the shutdown to its timeout (62 s with twelve clients looping).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.jobs.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    const current = this.workers.filter((w): w is Worker => w !== undefined);
    this.workers.fill(undefined);
    await Promise.all(current.map((w) => w.terminate()));
  }

  /**
   * An idle worker, else a new one while there is room for it, else the one heard from most
   * recently. Counting renders sent the second of six panels loaded at once to the worker busy
   * with a long computation (8 s for a 45 ms render); a computing worker falls silent instead.
   */
  private leastBusy(): Worker {
    const busy = new Set<Worker>();
    for (const j of this.jobs.values()) busy.add(j.worker);
    const current = this.workers.filter((w): w is Worker => w !== undefined);
    const idle = current.find((w) => !busy.has(w));
    if (idle) return idle;
    const free = this.workers.indexOf(undefined);
    if (free >= 0) return (this.workers[free] = this.spawn());
    let best = current[0]!;
    for (const w of current) if ((this.lastHeard.get(w) ?? 0) > (this.lastHeard.get(best) ?? 0)) best = w;
    return best;
  }

  private isCurrent(worker: Worker): boolean {
    return this.workers.includes(worker);
  }

  private retire(worker: Worker): void {
    const i = this.workers.indexOf(worker);
    if (i >= 0) this.workers[i] = undefined;
  }

  private end(worker: Worker): void {
    if (this.ending.has(worker)) return;
    this.ending.add(worker);
    void worker.terminate();
  }

  private pastDeadline(id: number): void {
    const job = this.jobs.get(id);
    if (!job) return;
    // a deadline further off than a timer reaches: look again then
    if (Date.now() < job.deadline) {
      job.timer = setTimeout(() => this.pastDeadline(id), Math.min(MAX_TIMER_MS, job.deadline - Date.now()));
      job.timer.unref();
      return;
    }
    this.retire(job.worker);
    this.overtimeCheck(id, job);
  }

  private overtimeCheck(id: number, job: Job): void {
    job.timer = setTimeout(() => {
      if (!this.jobs.has(id) || this.ending.has(job.worker)) return;
      // waiting on a slow read here is not computing: the render stops at its next deadline check
      if (job.pendingCalls > 0) return this.overtimeCheck(id, job);
      this.onOvertime();
      this.end(job.worker);
    }, OVERTIME_MS);
    job.timer.unref();
  }

  private spawn(): Worker {
    const w = startModuleWorker(import.meta.url, 'eval-worker', { workerData: { poolBuffer: this.pool.buffer, poolLimit: this.pool.limit } });
    w.on('message', (m: FromWorker) => this.onMessage(w, m));
    w.on('error', (err) => this.onError(err));
    w.on('exit', () => {
      this.retire(w);
      // a worker that died (out of memory, a bug) or was ended for a render past its time fails
      // its other renders, never the process; the next render starts a new one. Ended for an
      // overrun, it sends the renders it had not begun to another worker: they only waited in
      // its queue. Not after a death of its own: the render that killed it is not known, and sent
      // on it could kill the next.
      const overran = this.ending.has(w) && !this.stopping;
      const now = Date.now();
      for (const [id, job] of this.jobs) {
        if (job.worker !== w) continue;
        this.finish(id, job);
        if (overran && !job.begun && now < job.deadline) this.send(job.req, job.store, job.events, job.resolve, job.reject);
        else job.reject(new ExprEvalError('the render worker was restarted (a render ran past its time limit, or it failed); try again', 503));
      }
    });
    w.unref();
    return w;
  }

  private finish(id: number, job: Job): void {
    this.jobs.delete(id);
    clearTimeout(job.timer);
    if (this.jobs.size === 0) this.drained?.();
    if ([...this.jobs.values()].some((j) => j.worker === job.worker)) return;
    // a worker replaced while a render overran goes once its last render is done
    if (!this.isCurrent(job.worker)) this.end(job.worker);
    else job.worker.unref();
  }

  private onMessage(worker: Worker, m: FromWorker): void {
    this.lastHeard.set(worker, performance.now());
    if (m.t === 'begin') {
      const job = this.jobs.get(m.id);
      if (job) job.begun = true;
      return;
    }
    if (m.t === 'call') {
      void this.answer(worker, m.id, this.jobs.get(m.req), m.method, m.args);
      return;
    }
    const job = this.jobs.get(m.id);
    if (!job) return;
    this.finish(m.id, job);
    if (m.t === 'done') job.resolve(m.targets);
    else job.reject(fromWire(m.error));
  }

  private async answer(worker: Worker, id: number, job: Job | undefined, method: StoreMethod, args: readonly unknown[]): Promise<void> {
    let reply: ToWorker;
    if (job) job.pendingCalls++;
    try {
      if (!job) throw new ExprEvalError('the request is over', 503);
      reply = { t: 'reply', id, value: await this.dispatch(job, method, args) };
    } catch (err) {
      reply = { t: 'reply', id, error: toWire(err) };
    } finally {
      if (job) job.pendingCalls--;
    }
    // to the worker that asked: after a restart it may no longer be the current one
    worker.postMessage(reply);
  }

  private dispatch(job: Job, method: StoreMethod, a: readonly unknown[]): Promise<unknown> {
    const { store, events } = job;
    const arg = <T>(i: number): T => a[i] as T;
    switch (method) {
      case 'find':
        return store.find(arg(0), arg(1));
      case 'fetch':
        return store.fetch(arg(0), arg(1), arg(2), arg(3));
      case 'tagNames':
        return store.tags ? store.tags.tagNames() : Promise.resolve([]);
      case 'tagValues':
        return store.tags ? store.tags.tagValues(arg(0), arg(1)) : Promise.resolve([]);
      case 'findTagged':
        return store.tags ? store.tags.findTagged(arg(0), arg(1)) : Promise.resolve([]);
      case 'queryEvents':
        return events ? events.queryEvents(arg(0)) : Promise.resolve([]);
      default:
        return Promise.reject(new Error(`unknown store call ${method}`));
    }
  }
}
