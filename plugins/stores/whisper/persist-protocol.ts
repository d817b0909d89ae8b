import type { AggregationMethod, ArchiveSpec } from '../../shared/whisper-format/index.js';

/** What a new file gets (a matched storage rule). */
export interface CreateSpec {
  readonly archives: readonly ArchiveSpec[];
  readonly xFilesFactor: number;
  readonly aggregationMethod: AggregationMethod;
}

/**
 * One chunk of series for the persist worker. Points are packed into two transferable arrays;
 * series i owns [offsets[i], offsets[i+1]).
 */
export interface PersistRequest {
  readonly type: 'persist';
  readonly id: number;
  readonly now: number;
  readonly allocation: 'zero' | 'sparse';
  /** files this worker may keep open (its share of the process's descriptor limit) */
  readonly maxOpen: number;
  /** where new files are written before they are linked into the tree (same filesystem) */
  readonly stagingDir: string;
  readonly paths: string[];
  /** the storage rules of this chunk's new files, each once */
  readonly specs: CreateSpec[];
  /** per series: index into `specs` for a new file, -1 for one that exists */
  readonly createSpec: Int32Array;
  readonly offsets: Uint32Array;
  readonly times: Float64Array;
  readonly values: Float64Array;
}

/**
 * What happened to each series of a chunk, column-wise in transferable arrays (one object per
 * series was a measurable share of both threads' time in a burst of new series: built, cloned,
 * rebuilt and read once each). Failures are the exception and listed apart.
 */
export interface PersistResults {
  readonly ok: Uint8Array;
  readonly created: Uint8Array;
  /** points handed to an archive */
  readonly written: Uint32Array;
  /** points older than the file's retention, dropped as whisper does */
  readonly tooOld: Uint32Array;
  /** time spent on the series in the worker */
  readonly ms: Float64Array;
  /** the series that failed: index, errno code (ENOSPC…) or 'corrupt', message */
  readonly failures: Array<{ readonly i: number; readonly code: string; readonly message: string }>;
}

export function emptyResults(n: number): PersistResults {
  return { ok: new Uint8Array(n), created: new Uint8Array(n), written: new Uint32Array(n), tooOld: new Uint32Array(n), ms: new Float64Array(n), failures: [] };
}

export function resultBuffers(r: PersistResults): ArrayBuffer[] {
  return [r.ok.buffer, r.created.buffer, r.written.buffer, r.tooOld.buffer, r.ms.buffer] as ArrayBuffer[];
}

export interface PersistResponse {
  readonly type: 'persisted';
  readonly id: number;
  readonly results: PersistResults;
}

export interface CloseRequest {
  readonly type: 'close';
  readonly id: number;
}

export type WorkerRequest = PersistRequest | CloseRequest;
