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
  /** fdatasync each file after its update (drain at stop) */
  readonly sync: boolean;
  readonly allocation: 'zero' | 'sparse';
  /** files this worker may keep open (its share of the process's descriptor limit) */
  readonly maxOpen: number;
  /** where new files are written before they are linked into the tree (same filesystem) */
  readonly stagingDir: string;
  readonly paths: string[];
  readonly creates: Array<CreateSpec | null>;
  readonly offsets: Uint32Array;
  readonly times: Float64Array;
  readonly values: Float64Array;
}

export interface PersistResult {
  readonly ok: boolean;
  readonly written: number;
  readonly tooOld: number;
  readonly created: boolean;
  /** errno code (ENOSPC…) or 'corrupt' */
  readonly code?: string;
  readonly message?: string;
  readonly ms: number;
}

export interface PersistResponse {
  readonly type: 'persisted';
  readonly id: number;
  readonly results: PersistResult[];
}

export interface CloseRequest {
  readonly type: 'close';
  readonly id: number;
}

export type WorkerRequest = PersistRequest | CloseRequest;
