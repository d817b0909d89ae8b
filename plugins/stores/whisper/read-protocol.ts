import type { AggregationMethod } from '../../shared/whisper-format/index.js';

/** One batch of files to read over the same range (a store fetch() call, or part of one). */
export interface ReadRequest {
  readonly type: 'read';
  readonly id: number;
  readonly paths: readonly string[];
  readonly from: number;
  readonly until: number;
  readonly now: number;
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
  /** errno code (ENOENT, EACCES…), 'corrupt' for a file whose header is invalid, else 'error' */
  readonly code: string;
  /** the error's class name (CorruptWhisperFile, Error…), for the rate-limited log key */
  readonly name: string;
  readonly message: string;
}

export type ReadResult = ReadOk | ReadNone | ReadFailed;

export interface ReadResponse {
  readonly type: 'read';
  readonly id: number;
  readonly results: ReadResult[];
}

export interface ReadCloseRequest {
  readonly type: 'close';
  readonly id: number;
}

export type ReadWorkerRequest = ReadRequest | ReadCloseRequest;
