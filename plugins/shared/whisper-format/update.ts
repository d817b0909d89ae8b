import type { WhisperFile } from './io.js';
import { POINT_SIZE, floorMod, type AggregationMethod, type ArchiveInfo, type WhisperHeader } from './header.js';
import { pythonSetOrder } from './python-set.js';
import { readBase, readSlots, writeAt } from './slots.js';

/**
 * Archive bases (the timestamp in slot 0) learnt by earlier updates of one open file. Why it is
 * safe to reuse one: slot 0 only ever receives timestamps congruent to the base modulo the
 * archive's period (points × step), so any base it has held addresses every slot as the current
 * one does; whisper re-reads it on every update, a 12-byte read per archive per update. Valid only
 * while nobody else writes the file (the store's own files). The exception, an interval of 0, is
 * never cached.
 */
/** the latest timestamp whisper can store: its intervals are unsigned 32-bit */
export const MAX_TIMESTAMP = 0xffffffff;

export type BaseCache = Map<ArchiveInfo, number>;

async function baseOf(fh: WhisperFile, archive: ArchiveInfo, bases: BaseCache | undefined): Promise<number> {
  const known = bases?.get(archive);
  return known !== undefined ? known : readBase(fh, archive);
}

/** What an update did, for self-metrics. */
export interface UpdateResult {
  /** points handed to an archive (after whisper's too-old cut-off) */
  written: number;
  /** points older than the file's retention, silently dropped by whisper */
  tooOld: number;
}

/**
 * whisper.update_many (1.1.4) on an open file, with the same bytes as a result.
 *
 * Semantics kept exactly: timestamps truncated to integers; points sorted newest first (stable,
 * so of two identical raw timestamps the first given wins); each point goes to the first archive
 * whose retention covers its age, future points to the finest; points older than every archive
 * are dropped; within one archive the last point of a run of equal aligned intervals wins;
 * propagation to lower archives per distinct lower interval, in Python's set order, stopping
 * the cascade at the first level where nothing propagated.
 *
 * I/O differs from whisper's (same result): each propagation level reads the higher archive's
 * affected slots in one or two positioned reads and writes runs of lower slots at once, instead of
 * seek+read+write per interval. Callers must not run two updates on one file concurrently.
 */
export async function updateMany(
  fh: WhisperFile,
  header: WhisperHeader,
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  count: number,
  now: number,
  /** the file's BaseCache, kept by the caller between updates of one open file (optional) */
  bases?: BaseCache,
): Promise<UpdateResult> {
  if (count === 0) return { written: 0, tooOld: 0 };
  now = Math.trunc(now);
  const ts = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t = Math.trunc(times[i]!);
    // whisper stores an unsigned 32-bit interval and Python raises for anything else; writing
    // `t >>> 0` would silently put the point at another time
    if (!(t >= 0 && t <= MAX_TIMESTAMP)) throw new RangeError(`whisper timestamp out of range (0..${MAX_TIMESTAMP}): ${times[i]}`);
    ts[i] = t;
  }
  let ascending = true;
  for (let i = 1; i < count && ascending; i++) ascending = ts[i]! > ts[i - 1]!;
  const archives = header.archives;
  if (ascending && now - ts[0]! <= archives[0]!.retention) {
    // the usual case: in order, and even the oldest point belongs to the finest archive, so the
    // general path below would hand exactly these points, in this order, to archive 0
    const vs = values instanceof Float64Array ? values.subarray(0, count) : Float64Array.from({ length: count }, (_, i) => values[i]!);
    await archiveUpdateMany(fh, header, 0, ts, vs, bases);
    return { written: count, tooOld: 0 };
  }
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = i;
  // newest first, stable for equal timestamps; strictly ascending input needs no sort
  if (ascending) order.reverse();
  else order.sort((a, b) => ts[b]! - ts[a]!);

  let ai = 0;
  let batchT: number[] = [];
  let batchV: number[] = [];
  let written = 0;
  let k = 0;
  for (; k < count; k++) {
    const idx = order[k]!;
    const age = now - ts[idx]!;
    while (ai < archives.length && archives[ai]!.retention < age) {
      if (batchT.length > 0) {
        written += batchT.length;
        await archiveUpdateMany(fh, header, ai, batchT.reverse(), batchV.reverse(), bases);
        batchT = [];
        batchV = [];
      }
      ai++;
    }
    if (ai >= archives.length) break;
    batchT.push(ts[idx]!);
    batchV.push(values[idx]!);
  }
  if (ai < archives.length && batchT.length > 0) {
    written += batchT.length;
    await archiveUpdateMany(fh, header, ai, batchT.reverse(), batchV.reverse(), bases);
  }
  return { written, tooOld: count - written };
}

/** Writes chronologically ordered points into archive `ai`, then propagates. */
async function archiveUpdateMany(
  fh: WhisperFile,
  header: WhisperHeader,
  ai: number,
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  bases: BaseCache | undefined,
): Promise<void> {
  const archive = header.archives[ai]!;
  const step = archive.secondsPerPoint;
  const n = times.length;
  const aligned = new Array<number>(n);
  for (let i = 0; i < n; i++) aligned[i] = times[i]! - floorMod(times[i]!, step);

  // Runs of consecutive intervals become one contiguous write each.
  const runs: Array<{ start: number; buf: Buffer }> = [];
  let runBuf: Buffer = Buffer.allocUnsafe(n * POINT_SIZE);
  // DataView rather than Buffer#writeDoubleBE: the engine inlines it (several times faster)
  let view = new DataView(runBuf.buffer, runBuf.byteOffset, runBuf.length);
  let runLen = 0;
  let prev = 0; // whisper tests `not previousInterval`, so 0 counts as "none" as well
  for (let i = 0; i < n; i++) {
    if (i + 1 < n && aligned[i] === aligned[i + 1]) continue;
    const interval = aligned[i]!;
    if (!(prev === 0 || interval === prev + step)) {
      runs.push({ start: prev - step * (runLen - 1), buf: runBuf.subarray(0, runLen * POINT_SIZE) });
      runBuf = Buffer.allocUnsafe((n - i) * POINT_SIZE);
      view = new DataView(runBuf.buffer, runBuf.byteOffset, runBuf.length);
      runLen = 0;
    }
    view.setUint32(runLen * POINT_SIZE, interval >>> 0);
    view.setFloat64(runLen * POINT_SIZE + 4, values[i]!);
    runLen++;
    prev = interval;
  }
  if (runLen > 0) runs.push({ start: prev - step * (runLen - 1), buf: runBuf.subarray(0, runLen * POINT_SIZE) });

  let base = await baseOf(fh, archive, bases);
  if (base === 0) base = runs[0]!.start;
  // an interval of 0 (a point in the first step after 1970; the first, the points being in
  // order) joins the run after it (whisper's `not previousInterval`), so it is written where no
  // timestamp of its own would go, slot 0 included: whisper then reads the base back as 0, and
  // so must the next update here
  if (aligned[0] === 0) bases?.delete(archive);
  else bases?.set(archive, base);
  const archiveEnd = archive.offset + archive.size;
  for (const run of runs) {
    if (run.buf.length > archive.size) {
      // Only future points can make one run longer than the archive. Python whisper then writes
      // past the archive's end into the next archive (or past the file's end); we keep the newest
      // lap instead, which is what a reader can see anyway.
      const drop = run.buf.length - archive.size;
      run.start += (drop / POINT_SIZE) * step;
      run.buf = run.buf.subarray(drop);
    }
    const at = archive.offset + floorMod(Math.floor((run.start - base) / step) * POINT_SIZE, archive.size);
    const beyond = at + run.buf.length - archiveEnd;
    if (beyond > 0) {
      await writeAt(fh, run.buf.subarray(0, run.buf.length - beyond), at);
      await writeAt(fh, run.buf.subarray(run.buf.length - beyond), archive.offset);
    } else {
      await writeAt(fh, run.buf, at);
    }
  }

  let higher = archive;
  for (let li = ai + 1; li < header.archives.length; li++) {
    const lower = header.archives[li]!;
    if (lower.secondsPerPoint <= archive.secondsPerPoint) continue;
    const lspp = lower.secondsPerPoint;
    const lowerIntervals = pythonSetOrder(aligned.map((t) => t - floorMod(t, lspp)));
    if (!(await propagateLevel(fh, header, lowerIntervals, higher, lower, bases))) break;
    higher = lower;
  }
}

/**
 * whisper's __propagate for every interval of one level. Returns true when at least one
 * interval propagated (the condition for cascading to the next level).
 */
async function propagateLevel(
  fh: WhisperFile,
  header: WhisperHeader,
  intervals: number[],
  higher: ArchiveInfo,
  lower: ArchiveInfo,
  bases: BaseCache | undefined,
): Promise<boolean> {
  const hspp = higher.secondsPerPoint;
  const lspp = lower.secondsPerPoint;
  const ratio = Math.floor(lspp / hspp);
  const higherBase = await baseOf(fh, higher, bases);
  const firstSlot = (interval: number): number =>
    higherBase === 0 ? 0 : floorMod(Math.floor((interval - higherBase) / hspp), higher.points);

  // Read the higher slots of runs of adjacent lower intervals in one go each.
  const sorted = [...intervals].sort((a, b) => a - b);
  const slices = new Map<number, { buf: Buffer; index: number }>();
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[j - 1]! + lspp && (j - i + 1) * ratio <= higher.points) j++;
    const len = (j - i) * ratio;
    const buf = await readSlots(fh, higher, firstSlot(sorted[i]!), len);
    for (let k = i; k < j; k++) slices.set(sorted[k]!, { buf, index: (k - i) * ratio });
    i = j;
  }

  const method = header.aggregationMethod;
  const xff = header.xFilesFactor;
  const writes = new Map<number, Buffer>();
  let lowerBase = -1;
  let any = false;
  const known: number[] = [];
  const neighbors: Array<number | null> = new Array(ratio);
  for (const interval of intervals) {
    const { buf, index } = slices.get(interval)!;
    known.length = 0;
    const avail = buf.length / POINT_SIZE - index;
    for (let s = 0; s < ratio; s++) {
      let v: number | null = null;
      if (s < avail) {
        const off = (index + s) * POINT_SIZE;
        if (buf.readUInt32BE(off) === interval + s * hspp) v = buf.readDoubleBE(off + 4);
      }
      neighbors[s] = v;
      if (v !== null) known.push(v);
    }
    if (known.length === 0) continue;
    // float32 xff as read back from disk, compared the way whisper does
    if (!(known.length / ratio >= xff)) continue;
    const value = aggregate(method, known, neighbors);
    if (lowerBase < 0) lowerBase = await baseOf(fh, lower, bases);
    let slot: number;
    if (lowerBase === 0) {
      slot = 0;
      lowerBase = interval;
    } else {
      slot = floorMod(Math.floor((interval - lowerBase) / lspp), lower.points);
    }
    const p = Buffer.allocUnsafe(POINT_SIZE);
    p.writeUInt32BE(interval >>> 0, 0);
    p.writeDoubleBE(value, 4);
    writes.delete(slot); // re-insert so that Map order stays the order of the final writes
    writes.set(slot, p);
    any = true;
  }
  if (lowerBase > 0) bases?.set(lower, lowerBase);
  if (writes.size > 0) {
    const slots = [...writes.keys()].sort((a, b) => a - b);
    for (let i = 0; i < slots.length; ) {
      let j = i + 1;
      while (j < slots.length && slots[j] === slots[j - 1]! + 1) j++;
      const buf = j - i === 1 ? writes.get(slots[i]!)! : Buffer.concat(slots.slice(i, j).map((s) => writes.get(s)!));
      await writeAt(fh, buf, lower.offset + slots[i]! * POINT_SIZE);
      i = j;
    }
  }
  return any;
}

/**
 * Python's sum() of floats, left to right: once the running sum is a NaN it stays that very NaN
 * (x86 keeps the first of two NaN operands, and V8 may swap an addition's operands), so the bytes
 * written match whisper's when a window holds NaNs of either sign. null counts as 0 (avg_zero).
 */
function pySum(values: ReadonlyArray<number | null>): number {
  let s = 0;
  for (const v of values) {
    if (Number.isNaN(s)) break;
    if (v === null) continue;
    s = Number.isNaN(v) ? v : s + v;
  }
  return s;
}

/** whisper.aggregate: the value a lower slot gets from the known higher values of its window. */
export function aggregate(method: AggregationMethod, known: readonly number[], neighbors: ReadonlyArray<number | null>): number {
  switch (method) {
    case 'average':
      return pySum(known) / known.length;
    case 'sum':
      return pySum(known);
    case 'last':
      return known[known.length - 1]!;
    case 'max': {
      // Python's max keeps the first of equal values and compares with `>`; NaN never replaces
      let m = known[0]!;
      for (let i = 1; i < known.length; i++) if (known[i]! > m) m = known[i]!;
      return m;
    }
    case 'min': {
      let m = known[0]!;
      for (let i = 1; i < known.length; i++) if (known[i]! < m) m = known[i]!;
      return m;
    }
    case 'avg_zero':
      return pySum(neighbors) / neighbors.length;
    case 'absmax': {
      let m = known[0]!;
      for (let i = 1; i < known.length; i++) if (Math.abs(known[i]!) > Math.abs(m)) m = known[i]!;
      return m;
    }
    case 'absmin': {
      let m = known[0]!;
      for (let i = 1; i < known.length; i++) if (Math.abs(known[i]!) < Math.abs(m)) m = known[i]!;
      return m;
    }
  }
}
