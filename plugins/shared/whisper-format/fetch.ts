import type { WhisperFile } from './io.js';
import { POINT_SIZE, floorMod, type ArchiveInfo, type WhisperHeader } from './header.js';
import { readBase, readSlots } from './slots.js';

export interface FetchResult {
  /** first slot returned (= aligned `from` + step) */
  start: number;
  /** exclusive */
  end: number;
  step: number;
  /** NaN where whisper returns None */
  values: Float64Array;
  /** the archive that answered */
  archive: ArchiveInfo;
}

export class InvalidTimeInterval extends Error {
  override name = 'InvalidTimeInterval';
}

/**
 * The archive whisper reads for a range starting at `from`: the first whose retention covers
 * `now - from` (after clamping `from` to the file's retention), or the one with precision
 * `archiveSeconds` when given.
 */
export function selectArchive(header: WhisperHeader, from: number, now: number, archiveSeconds?: number): ArchiveInfo | undefined {
  if (archiveSeconds !== undefined) return header.archives.find((a) => a.secondsPerPoint === archiveSeconds);
  const oldest = now - header.maxRetention;
  const diff = now - Math.max(Math.trunc(from), oldest);
  return header.archives.find((a) => a.retention >= diff) ?? header.archives[header.archives.length - 1];
}

/**
 * whisper.fetch (1.1.4): slots t with from < t ≤ until from one archive; `undefined` when the
 * range lies wholly in the future or before the file's retention (whisper returns None).
 */
export interface FetchWindow {
  readonly archive: ArchiveInfo;
  /** clamped from/until, before alignment */
  readonly from: number;
  readonly until: number;
}

/**
 * whisper.fetch's range logic without I/O: clamps to the file's retention and picks the archive.
 * `undefined` when the range lies wholly in the future or before the retention (whisper: None).
 */
export function fetchWindow(header: WhisperHeader, from: number, until: number | undefined, now: number, archiveSeconds?: number): FetchWindow | undefined {
  now = Math.trunc(now);
  let f = Math.trunc(from);
  let u = Math.trunc(until ?? now);
  if (f > u) throw new InvalidTimeInterval(`Invalid time interval: from time '${f}' is after until time '${u}'`);
  const oldest = now - header.maxRetention;
  if (f > now) return undefined;
  if (u < oldest) return undefined;
  if (f < oldest) f = oldest;
  if (u > now) u = now;
  const archive = selectArchive(header, f, now, archiveSeconds);
  if (!archive) throw new RangeError(`Invalid granularity: ${archiveSeconds}`);
  return { archive, from: f, until: u };
}

/**
 * whisper.fetch (1.1.4): slots t with from < t ≤ until from one archive; `undefined` when the
 * range lies wholly in the future or before the file's retention (whisper returns None).
 */
export async function fetchWhisper(
  fh: WhisperFile,
  header: WhisperHeader,
  from: number,
  until: number | undefined,
  now: number,
  archiveSeconds?: number,
): Promise<FetchResult | undefined> {
  const w = fetchWindow(header, from, until, now, archiveSeconds);
  return w && fetchArchive(fh, w.archive, w.from, w.until);
}

/** The grid fetchArchive would return for a never-written archive (all NaN), without I/O. */
export function emptyFetch(archive: ArchiveInfo, from: number, until: number): FetchResult {
  const g = fetchGrid(archive, from, until);
  return { start: g.start, end: g.end, step: g.step, values: new Float64Array(g.length).fill(NaN), archive };
}

/** The timestamps a fetch of the range answers with (emptyFetch's, without the array). */
export function fetchGrid(archive: ArchiveInfo, from: number, until: number): { start: number; end: number; step: number; length: number } {
  const step = archive.secondsPerPoint;
  const { fromI, untilI } = alignRange(step, from, until);
  return { start: fromI, end: untilI, step, length: (untilI - fromI) / step };
}

function alignRange(step: number, from: number, until: number): { fromI: number; untilI: number } {
  const fromI = from - floorMod(from, step) + step;
  let untilI = until - floorMod(until, step) + step;
  if (fromI === untilI) untilI += step;
  return { fromI, untilI };
}

/** One archive, no retention checks (whisper's __archive_fetch). */
export async function fetchArchive(fh: WhisperFile, archive: ArchiveInfo, from: number, until: number): Promise<FetchResult> {
  const step = archive.secondsPerPoint;
  const { fromI, untilI } = alignRange(step, from, until);
  const count = (untilI - fromI) / step;
  const values = new Float64Array(count).fill(NaN);
  const base = await readBase(fh, archive);
  if (base !== 0) {
    const slot = floorMod(Math.floor((fromI - base) / step), archive.points);
    // whisper reads at most one lap of the archive; beyond it the slots stay null
    const buf = await readSlots(fh, archive, slot, count);
    const n = buf.length / POINT_SIZE;
    for (let i = 0, t = fromI; i < n; i++, t += step) {
      if (buf.readUInt32BE(i * POINT_SIZE) === t) values[i] = buf.readDoubleBE(i * POINT_SIZE + 4);
    }
  }
  return { start: fromI, end: untilI, step, values, archive };
}
