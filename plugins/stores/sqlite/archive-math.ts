import { aggregate, encodeHeader, floorMod, parseHeader, type AggregationMethod, type ArchiveSpec, type WhisperHeader } from '../../shared/whisper-format/index.js';

/** The header a .wsp file with these archives would have (xff read back as float32, as whisper does). */
export function headerOf(archives: readonly ArchiveSpec[], xff: number, method: AggregationMethod): WhisperHeader {
  return parseHeader(encodeHeader(archives, xff, method), '<sqlite>');
}

/** A storage layout: what a .wsp file's header says. Series of one rule share one object. */
export interface Layout {
  readonly header: WhisperHeader;
  readonly archives: ArchiveSpec[];
}

/**
 * One Layout per distinct `archives, xff, method`. A database holds a handful, and a header per
 * series took ~1.5 kB of heap each: a million series took ~26 s to start and 2.7 GB, mostly GC.
 */
export class Layouts {
  private readonly byKey = new Map<string, Layout>();

  /** `archivesJson`: the archive list as the `series` table stores it */
  of(archivesJson: string, xff: number, method: AggregationMethod): Layout {
    const key = `${archivesJson} ${xff} ${method}`;
    let layout = this.byKey.get(key);
    if (!layout) {
      const archives = JSON.parse(archivesJson) as ArchiveSpec[];
      this.byKey.set(key, (layout = { header: headerOf(archives, xff, method), archives }));
    }
    return layout;
  }
}

/**
 * Whisper's archive semantics over any slot storage: each archive is a ring of `points` slots of
 * `secondsPerPoint`; an aligned timestamp t lives in slot (t / step) mod points, holding (t, value).
 * Two timestamps share a slot exactly when they do in a .wsp file (the file's base offset only
 * rotates the ring), so a store that keys rows by (archive, slot) and keeps the timestamp answers
 * every fetch as whisper does.
 */
export interface SlotIO {
  /** values of archive `ai` at aligned timestamps t0, t0+step, … (count slots); undefined = no point */
  read(ai: number, t0: number, count: number): Array<number | undefined>;
  write(ai: number, ts: number, value: number): void;
}

export interface UpdateResult {
  written: number;
  tooOld: number;
}

export function slotOf(ts: number, step: number, points: number): number {
  return floorMod(Math.floor(ts / step), points);
}

/**
 * whisper.update_many (1.1.4): truncate timestamps, newest first (stable), each point to the first
 * archive whose retention covers its age (future points to the finest), too-old points dropped;
 * within an archive the last point of a run of equal intervals wins; then propagation to every
 * lower archive per distinct lower interval, xFilesFactor compared as whisper's float32, the
 * cascade stopping at the first level where nothing propagated.
 */
export function updateManySlots(header: WhisperHeader, times: ArrayLike<number>, values: ArrayLike<number>, count: number, now: number, io: SlotIO): UpdateResult {
  if (count === 0) return { written: 0, tooOld: 0 };
  now = Math.trunc(now);
  const order = Array.from({ length: count }, (_, i) => i);
  const ts = Float64Array.from({ length: count }, (_, i) => Math.trunc(times[i]!));
  order.sort((a, b) => ts[b]! - ts[a]!);
  const archives = header.archives;
  let ai = 0;
  let bt: number[] = [];
  let bv: number[] = [];
  let written = 0;
  for (let k = 0; k < count; k++) {
    const idx = order[k]!;
    const age = now - ts[idx]!;
    while (ai < archives.length && archives[ai]!.retention < age) {
      if (bt.length > 0) {
        written += bt.length;
        archiveUpdate(header, ai, bt.reverse(), bv.reverse(), io);
        bt = [];
        bv = [];
      }
      ai++;
    }
    if (ai >= archives.length) break;
    bt.push(ts[idx]!);
    bv.push(values[idx]!);
  }
  if (ai < archives.length && bt.length > 0) {
    written += bt.length;
    archiveUpdate(header, ai, bt.reverse(), bv.reverse(), io);
  }
  return { written, tooOld: count - written };
}

function archiveUpdate(header: WhisperHeader, ai: number, times: number[], values: number[], io: SlotIO): void {
  const step = header.archives[ai]!.secondsPerPoint;
  const aligned = times.map((t) => t - floorMod(t, step));
  for (let i = 0; i < aligned.length; i++) {
    if (i + 1 < aligned.length && aligned[i] === aligned[i + 1]) continue;
    io.write(ai, aligned[i]!, values[i]!);
  }
  let higher = ai;
  for (let li = ai + 1; li < header.archives.length; li++) {
    const lowerStep = header.archives[li]!.secondsPerPoint;
    const intervals = new Set(aligned.map((t) => t - floorMod(t, lowerStep)));
    let further = false;
    for (const interval of intervals) if (propagate(header, interval, higher, li, io)) further = true;
    if (!further) break;
    higher = li;
  }
}

function propagate(header: WhisperHeader, interval: number, hi: number, li: number, io: SlotIO): boolean {
  const higher = header.archives[hi]!;
  const lower = header.archives[li]!;
  const count = lower.secondsPerPoint / higher.secondsPerPoint;
  const neighbors = io.read(hi, interval, count).map((v) => (v === undefined ? null : v));
  const known = neighbors.filter((v): v is number => v !== null);
  if (known.length === 0) return false;
  if (known.length / neighbors.length < header.xFilesFactor) return false;
  io.write(li, interval, aggregate(header.aggregationMethod, known, neighbors));
  return true;
}
