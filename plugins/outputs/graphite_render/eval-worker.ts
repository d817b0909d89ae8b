/**
 * The render worker: evaluates a request's targets (parse, fetch, functions) off the main thread.
 * Its store is a proxy: every find, fetch and tag or event query goes back to the main thread,
 * which answers it from the request's budgeted store (chunked reads, the point budget and the
 * pool, the deadline). Points functions copy or generate are charged here, to the same budget
 * (its counts are shared memory) and the same pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EventQuery, EventRecord, EventStore, FindNode, FindOptions, QueryStore, SeriesData, TagTerm } from '../../../core/index.js';
import { evaluateTarget, parseTarget, PointBudget, PointPool, type TimeSeries } from './expr/index.js';
import { fromWire, seriesToWire, toWire, type EvalRequest, type FromWorker, type StoreMethod, type ToWorker } from './eval-wire.js';

interface WorkerInit {
  readonly poolBuffer: SharedArrayBuffer;
  readonly poolLimit: number;
}

const port = parentPort!;
const init = workerData as WorkerInit;
const pool = new PointPool(init.poolLimit, init.poolBuffer);
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
const ids = { next: 1 };

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

function call<T>(req: number, method: StoreMethod, args: readonly unknown[]): Promise<T> {
  const id = ids.next++;
  return new Promise<T>((resolve, reject) => {
    calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ t: 'call', id, req, method, args });
  });
}

function remoteStore(id: number, req: EvalRequest): QueryStore {
  // the main thread's budgeted store charges the reads, to the budget both threads share
  const store: QueryStore = {
    find: (pattern: string, opts?: FindOptions) => call<FindNode[]>(id, 'find', [pattern, opts]),
    fetch: (names, from, until, opts) => call<SeriesData[]>(id, 'fetch', [names, from, until, opts]),
  };
  if (!req.hasTags) return store;
  return {
    ...store,
    tags: {
      tagNames: () => call<string[]>(id, 'tagNames', []),
      tagValues: (tag: string, opts?: { readonly prefix?: string; readonly limit?: number }) => call<string[]>(id, 'tagValues', [tag, opts]),
      findTagged: (terms: readonly TagTerm[], opts?: { readonly limit?: number }) => call<string[]>(id, 'findTagged', [terms, opts]),
    },
  };
}

function remoteEvents(id: number): EventStore {
  const readOnly = (): never => {
    throw new Error('the render worker only reads events');
  };
  return {
    queryEvents: (q: EventQuery) => call<EventRecord[]>(id, 'queryEvents', [q]),
    addEvent: readOnly,
    getEvent: readOnly,
    deleteEvent: readOnly,
  };
}

async function evaluate(id: number, req: EvalRequest): Promise<void> {
  post({ t: 'begin', id });
  // the main thread releases the request's points when its answer is sent, whatever happens here
  const budget = new PointBudget(req.maxPointsPerRequest, pool, req.budgetCells);
  try {
    const store = remoteStore(id, req);
    const events = req.hasEvents ? remoteEvents(id) : undefined;
    // shared by the request's targets, as on the main thread: stacked() continues across them
    const requestState = new Map<string, unknown>();
    const results: TimeSeries[][] = [];
    for (const target of req.targets) {
      const expr = parseTarget(target, { maxDepth: req.maxExpressionDepth });
      results.push(
        await evaluateTarget(expr, {
          from: req.from, until: req.until, now: req.now, store, ...(events ? { events } : {}),
          maxSeriesPerTarget: req.maxSeriesPerTarget, xFilesFactor: req.xFilesFactor, deadline: req.deadline,
          templateArgs: req.templateArgs, requestState, pointBudget: budget, tz: req.tz, serverTz: req.serverTz,
        }),
      );
    }
    const { targets, transfer } = seriesToWire(results);
    post({ t: 'done', id, targets }, transfer);
  } catch (err) {
    post({ t: 'fail', id, error: toWire(err) });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'eval') {
    void evaluate(m.id, m.req);
    return;
  }
  const pending = calls.get(m.id);
  if (!pending) return;
  calls.delete(m.id);
  if ('error' in m) pending.reject(fromWire(m.error));
  else pending.resolve(m.value);
});
