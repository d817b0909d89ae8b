/**
 * The messages between the main thread and the render worker (eval-worker.ts): a request's targets
 * go out, store calls come back to be answered by the main thread's budgeted store, and the series
 * (or the error) end the request. Errors cross as their kind, status and message and are rebuilt
 * as the same classes, so the handlers map them to the same HTTP answers as before.
 */
import { PatternTooBroad } from '../../../core/index.js';
import { ExprEvalError } from './expr/index.js';
import type { RenderSeries } from './formats.js';
import { ApiError } from './respond.js';

/** what evaluateTarget needs of the request, minus the store (EvalContext's plain fields) */
export interface EvalRequest {
  readonly targets: readonly string[];
  readonly from: number;
  readonly until: number;
  readonly now: number;
  readonly maxSeriesPerTarget: number;
  readonly maxExpressionDepth: number;
  readonly maxPointsPerRequest: number;
  readonly xFilesFactor: number;
  readonly deadline: number;
  readonly templateArgs: Readonly<Record<string, string>>;
  readonly tz: string;
  readonly serverTz: string;
  /** the store has a tag index (seriesByTag) */
  readonly hasTags: boolean;
  /** an event store is configured (events()) */
  readonly hasEvents: boolean;
  /** the request's PointBudget cells, charged by both threads */
  readonly budgetCells: SharedArrayBuffer;
}

/** the store and event-store calls a worker may make */
export type StoreMethod = 'find' | 'fetch' | 'tagNames' | 'tagValues' | 'findTagged' | 'queryEvents';

export type WireError =
  | { readonly kind: 'eval'; readonly status: number; readonly message: string }
  | { readonly kind: 'api'; readonly status: number; readonly message: string; readonly reason: string }
  | { readonly kind: 'pattern'; readonly message: string }
  | { readonly kind: 'other'; readonly message: string; readonly stack?: string };

export type ToWorker =
  | { readonly t: 'eval'; readonly id: number; readonly req: EvalRequest }
  | { readonly t: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly error: WireError };

export type FromWorker =
  /** the worker starts on render `id`: posted before it computes, so it arrives however long that takes */
  | { readonly t: 'begin'; readonly id: number }
  | { readonly t: 'call'; readonly id: number; readonly req: number; readonly method: StoreMethod; readonly args: readonly unknown[] }
  | { readonly t: 'done'; readonly id: number; readonly targets: RenderSeries[][] }
  | { readonly t: 'fail'; readonly id: number; readonly error: WireError };

export function toWire(err: unknown): WireError {
  if (err instanceof ExprEvalError) return { kind: 'eval', status: err.status, message: err.message };
  if (err instanceof ApiError) return { kind: 'api', status: err.status, message: err.message, reason: err.reason };
  if (err instanceof PatternTooBroad) return { kind: 'pattern', message: err.message };
  const e = err instanceof Error ? err : new Error(String(err));
  return e.stack === undefined ? { kind: 'other', message: e.message } : { kind: 'other', message: e.message, stack: e.stack };
}

export function fromWire(w: WireError): Error {
  switch (w.kind) {
    case 'eval':
      return new ExprEvalError(w.message, w.status);
    case 'api':
      return new ApiError(w.status, w.message, w.reason);
    case 'pattern':
      return new PatternTooBroad(w.message);
    case 'other': {
      const e = new Error(w.message);
      if (w.stack !== undefined) e.stack = w.stack;
      return e;
    }
  }
}

/** the series as plain data, and the buffers to move rather than copy (each once) */
export function seriesToWire(targets: readonly (readonly RenderSeries[])[]): { targets: RenderSeries[][]; transfer: ArrayBuffer[] } {
  const buffers = new Set<ArrayBuffer>();
  const out = targets.map((list) =>
    list.map((s) => {
      if (s.values.buffer instanceof ArrayBuffer) buffers.add(s.values.buffer);
      return {
        name: s.name, start: s.start, end: s.end, step: s.step, values: s.values, tags: s.tags,
        pathExpression: s.pathExpression, consolidationFunc: s.consolidationFunc, xFilesFactor: s.xFilesFactor,
      };
    }),
  );
  return { targets: out, transfer: [...buffers] };
}
