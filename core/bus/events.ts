import type { PointBatch } from '../model/point-batch.js';
import type { SampleBatch } from '../model/sample-batch.js';
import type { EventRecord } from '../contracts/store.js';

export interface PressureSignal {
  /** id of the store that signals */
  readonly source: string;
  readonly active: boolean;
}

export interface FlushSignal {
  readonly source: string;
  /** the flush's own timestamp (Unix seconds) */
  readonly timestamp: number;
  readonly points: number;
}

/**
 * Every bus event and its payload. Data events carry batches (never one event per point);
 * lifecycle events are dotted past tense.
 */
export interface BusEvents {
  points: (batch: PointBatch, source: string) => void;
  samples: (batch: SampleBatch, source: string) => void;
  pressure: (signal: PressureSignal) => void;
  flushed: (signal: FlushSignal) => void;
  annotation: (event: EventRecord) => void;
  /** the operator asked to reload (SIGHUP): plugins re-read their own files (e.g. schema rules) */
  reload: () => void;
  'plugin.started': (id: string) => void;
  'plugin.stopped': (id: string) => void;
  'plugin.failed': (id: string, error: Error) => void;
}
