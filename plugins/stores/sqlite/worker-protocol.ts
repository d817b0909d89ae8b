import type { AggregationMethod, ArchiveSpec } from '../../shared/whisper-format/index.js';

export interface NewSeries {
  name: string;
  archives: ArchiveSpec[];
  xff: number;
  method: AggregationMethod;
}

export type ToWorker =
  | { type: 'open'; path: string; synchronous: 'normal' | 'full' }
  /** reads the series table into the writer's map (the store reads its own meanwhile) */
  | { type: 'load' }
  | { type: 'apply'; seq: number; now: number; newSeries: NewSeries[]; names: string[]; times: Float64Array; values: Float64Array }
  | { type: 'sweep'; now: number; maxSeries: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'opened' }
  | { type: 'loaded' }
  | { type: 'applied'; seq: number; created: Array<{ name: string; id: number }>; written: number; tooOld: number; unknown: number; ms: number }
  | { type: 'swept'; deleted: number }
  | { type: 'error'; seq: number; message: string; code: string }
  | { type: 'closed' };
