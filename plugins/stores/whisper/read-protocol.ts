import { AGGREGATION_METHODS, type AggregationMethod } from '../../shared/whisper-format/index.js';

/** One batch of files to read over the same range (a store fetch() call, or part of one). */
export interface ReadRequest {
  readonly type: 'read';
  readonly id: number;
  readonly paths: readonly string[];
  readonly from: number;
  readonly until: number;
  readonly now: number;
  /** values the batch may allocate in all (FetchOptions.maxPoints); past it files answer 'too_large' */
  readonly maxPoints: number;
  /** set (to 1) by the main thread when the caller gives up: the files not read yet answer 'aborted' */
  readonly stop?: Int32Array;
}

/** A file read: its values on the fetched archive's grid, NaN where whisper returns None. */
export interface ReadOk {
  readonly ok: true;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly values: Float64Array;
  readonly aggregationMethod: AggregationMethod;
  readonly xFilesFactor: number;
  /** step of the finest archive: what the cache merge folds unpersisted points onto */
  readonly rawStep: number;
}

/** The range lies wholly outside the file's retention (whisper.fetch returns None). */
export interface ReadNone {
  readonly ok: false;
  readonly code: 'none';
}

export interface ReadFailed {
  readonly ok: false;
  /**
   * errno code (ENOENT, EACCES…), 'corrupt' for a file whose header is invalid, 'too_large' for
   * a file not read because its grid would pass the batch's maxPoints, 'aborted' for one not read
   * because the caller gave up, else 'error'
   */
  readonly code: string;
  /** the error's class name (CorruptWhisperFile, Error…), for the rate-limited log key */
  readonly name: string;
  readonly message: string;
  /** 'too_large': the values the batch would have held with this file's (0 for the files after it) */
  readonly points?: number;
}

export type ReadResult = ReadOk | ReadNone | ReadFailed;

export interface ReadResponse {
  readonly type: 'read';
  readonly id: number;
  readonly results: ReadColumns;
}

const OK = 0;
const NONE = 1;
const FAILED = 2;

/**
 * A batch's results column-wise: one typed array per field, every file's values in one array
 * (file i owns values[offsets[i], offsets[i+1])), failures listed apart. Why: a batch of plain
 * objects was rebuilt property by property by the structured-clone reader on the event loop,
 * ~2.5 ms of a 1,000-file render; typed arrays are transferred, and the objects are made here.
 */
export interface ReadColumns {
  readonly kind: Uint8Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly step: Float64Array;
  readonly rawStep: Float64Array;
  readonly xFilesFactor: Float64Array;
  readonly method: Uint8Array;
  readonly offsets: Uint32Array;
  readonly values: Float64Array;
  readonly failures: Array<{ readonly i: number; readonly code: string; readonly name: string; readonly message: string; readonly points?: number }>;
}

/** Worker side: the batch's results as columns, and the buffers to transfer. */
export function packResults(results: readonly ReadResult[]): { columns: ReadColumns; transfer: ArrayBuffer[] } {
  const n = results.length;
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = total;
    const r = results[i]!;
    if (r.ok) total += r.values.length;
  }
  offsets[n] = total;
  const c: ReadColumns = {
    kind: new Uint8Array(n),
    start: new Float64Array(n),
    end: new Float64Array(n),
    step: new Float64Array(n),
    rawStep: new Float64Array(n),
    xFilesFactor: new Float64Array(n),
    method: new Uint8Array(n),
    offsets,
    values: new Float64Array(total),
    failures: [],
  };
  for (let i = 0; i < n; i++) {
    const r = results[i]!;
    if (r.ok) {
      c.kind[i] = OK;
      c.start[i] = r.start;
      c.end[i] = r.end;
      c.step[i] = r.step;
      c.rawStep[i] = r.rawStep;
      c.xFilesFactor[i] = r.xFilesFactor;
      c.method[i] = AGGREGATION_METHODS.indexOf(r.aggregationMethod);
      c.values.set(r.values, offsets[i]!);
    } else if (r.code === 'none') c.kind[i] = NONE;
    else {
      c.kind[i] = FAILED;
      const f = r as ReadFailed;
      c.failures.push({ i, code: f.code, name: f.name, message: f.message, ...(f.points !== undefined ? { points: f.points } : {}) });
    }
  }
  const transfer = [c.kind, c.start, c.end, c.step, c.rawStep, c.xFilesFactor, c.method, c.offsets, c.values].map((a) => a.buffer as ArrayBuffer);
  return { columns: c, transfer };
}

/** Main side: one result per file again; each file's values are a view on the batch's array. */
export function unpackResults(c: ReadColumns): ReadResult[] {
  const n = c.kind.length;
  const out: ReadResult[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = c.kind[i];
    if (k === OK) {
      out[i] = {
        ok: true,
        start: c.start[i]!,
        end: c.end[i]!,
        step: c.step[i]!,
        values: c.values.subarray(c.offsets[i]!, c.offsets[i + 1]!),
        aggregationMethod: AGGREGATION_METHODS[c.method[i]!]!,
        xFilesFactor: c.xFilesFactor[i]!,
        rawStep: c.rawStep[i]!,
      };
    } else if (k === NONE) out[i] = { ok: false, code: 'none' };
  }
  for (const f of c.failures) out[f.i] = { ok: false, code: f.code, name: f.name, message: f.message, ...(f.points !== undefined ? { points: f.points } : {}) };
  return out;
}

export interface ReadCloseRequest {
  readonly type: 'close';
  readonly id: number;
}

export type ReadWorkerRequest = ReadRequest | ReadCloseRequest;
