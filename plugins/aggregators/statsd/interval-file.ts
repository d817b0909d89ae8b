/**
 * The part of an interval a stop flushed, kept for the next start. A stop flushes what the
 * aggregator holds, stamped with the interval's boundary; a restart within the same interval then
 * flushed only what arrived after it, at the same timestamp, and that point replaced the first in
 * the store (whisper keeps one value per slot): a config change by restart lost the counts of the
 * interval's first seconds. The next start adds what the stop flushed to its first interval when
 * that is the same one, so the boundary's point covers the whole interval.
 */
import { readFile, unlink } from 'node:fs/promises';
import { writeFileAtomically } from '../../../core/index.js';

/** The live state of an interval, as plain data. */
export interface IntervalData {
  counters: Array<[string, number]>;
  /** key, values, sample-rate-corrected count */
  timers: Array<[string, number[], number]>;
  gauges: Array<[string, number]>;
  sets: Array<[string, string[]]>;
}

interface IntervalDoc extends IntervalData {
  version: 1;
  /** Unix seconds of the boundary the stop flushed at */
  boundary: number;
  intervalMs: number;
}

/** Written atomically (temp file + rename): a crash mid-write leaves no half file. */
export async function saveInterval(path: string, boundary: number, intervalMs: number, data: IntervalData): Promise<void> {
  const doc: IntervalDoc = { version: 1, boundary, intervalMs, ...data };
  await writeFileAtomically(path, JSON.stringify(doc));
}

/**
 * Reads and removes the file (it is used once, whatever it holds). Undefined when there is none;
 * throws when it cannot be read or is not one of ours.
 */
export async function takeInterval(path: string): Promise<(IntervalData & { boundary: number; intervalMs: number }) | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  await unlink(path);
  const doc = JSON.parse(text) as Partial<IntervalDoc>;
  const ok =
    doc.version === 1 &&
    typeof doc.boundary === 'number' &&
    typeof doc.intervalMs === 'number' &&
    Array.isArray(doc.counters) &&
    Array.isArray(doc.timers) &&
    Array.isArray(doc.gauges) &&
    Array.isArray(doc.sets);
  if (!ok) throw new Error('not a StatsD interval file of this version');
  return doc as IntervalDoc;
}
