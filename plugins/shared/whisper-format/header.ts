/**
 * The Whisper header (PY whisper.py 1.1.4 layout, big-endian):
 *   metadata  u32 aggregationType | u32 maxRetention | f32 xFilesFactor | u32 archiveCount
 *   archive   u32 offset | u32 secondsPerPoint | u32 points        (× archiveCount)
 * A point is u32 timestamp | f64 value (12 bytes).
 */
import type { WhisperFile } from './io.js';

export const METADATA_SIZE = 16;
export const ARCHIVE_INFO_SIZE = 12;
/** more archives than this in a header is taken for corruption (whisper would read garbage) */
export const MAX_ARCHIVES = 64;
export const POINT_SIZE = 12;

export const AGGREGATION_METHODS = ['average', 'sum', 'last', 'max', 'min', 'avg_zero', 'absmax', 'absmin'] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

/** on-disk code of a method: its 1-based position in whisper's table */
export function aggregationType(method: AggregationMethod): number {
  return AGGREGATION_METHODS.indexOf(method) + 1;
}

export function isAggregationMethod(s: string): s is AggregationMethod {
  return (AGGREGATION_METHODS as readonly string[]).includes(s);
}

export interface ArchiveInfo {
  /** absolute byte offset of the archive's first slot */
  readonly offset: number;
  readonly secondsPerPoint: number;
  readonly points: number;
  /** secondsPerPoint × points */
  readonly retention: number;
  /** points × 12 */
  readonly size: number;
}

export interface WhisperHeader {
  readonly aggregationMethod: AggregationMethod;
  readonly maxRetention: number;
  /** as read back from the float32 on disk: whisper compares against this value, not the configured one */
  readonly xFilesFactor: number;
  readonly archives: readonly ArchiveInfo[];
  /** bytes the header occupies (= offset of the first archive in a well-formed file) */
  readonly headerSize: number;
  /** header + every archive: what the file size must be at least */
  readonly fileSize: number;
}

/** `(secondsPerPoint, points)` as in whisper's archiveList */
export type ArchiveSpec = readonly [secondsPerPoint: number, points: number];

export class CorruptWhisperFile extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} (${path})`);
    this.name = 'CorruptWhisperFile';
  }
}

/**
 * Parses a header from the start of a file. Checks what whisper checks (method code, xff range,
 * short reads) and, beyond whisper, that every archive lies inside the file, so a damaged header
 * can never send a write to a wild offset.
 */
export function parseHeader(buf: Buffer, path: string, actualFileSize?: number): WhisperHeader {
  if (buf.length < METADATA_SIZE) throw new CorruptWhisperFile('Unable to read header', path);
  const type = buf.readUInt32BE(0);
  const maxRetention = buf.readUInt32BE(4);
  const xff = buf.readFloatBE(8);
  const count = buf.readUInt32BE(12);
  if (type < 1 || type > AGGREGATION_METHODS.length) throw new CorruptWhisperFile('Unable to read header', path);
  if (!(xff >= 0 && xff <= 1)) throw new CorruptWhisperFile('Unable to read header', path);
  if (count === 0 || count > MAX_ARCHIVES) throw new CorruptWhisperFile(`implausible archive count ${count}`, path);
  const headerSize = METADATA_SIZE + ARCHIVE_INFO_SIZE * count;
  if (buf.length < headerSize) throw new CorruptWhisperFile('Unable to read archive metadata', path);
  const archives: ArchiveInfo[] = [];
  let end = headerSize;
  for (let i = 0; i < count; i++) {
    const at = METADATA_SIZE + i * ARCHIVE_INFO_SIZE;
    const offset = buf.readUInt32BE(at);
    const secondsPerPoint = buf.readUInt32BE(at + 4);
    const points = buf.readUInt32BE(at + 8);
    if (secondsPerPoint === 0 || points === 0 || offset < headerSize) {
      throw new CorruptWhisperFile(`archive ${i} has an invalid offset, precision or size`, path);
    }
    const a = { offset, secondsPerPoint, points, retention: secondsPerPoint * points, size: points * POINT_SIZE };
    end = Math.max(end, offset + a.size);
    archives.push(a);
  }
  if (actualFileSize !== undefined && actualFileSize < end) {
    throw new CorruptWhisperFile(`file is ${actualFileSize} bytes, header needs ${end}`, path);
  }
  return {
    aggregationMethod: AGGREGATION_METHODS[type - 1]!,
    maxRetention,
    xFilesFactor: xff,
    archives,
    headerSize,
    fileSize: end,
  };
}

/** Reads and validates the header of an open file (two small positioned reads at most). */
export async function readHeader(fh: WhisperFile, path: string): Promise<WhisperHeader> {
  const st = await fh.stat();
  const first = Buffer.alloc(Math.min(st.size, METADATA_SIZE + ARCHIVE_INFO_SIZE * 4));
  const { bytesRead } = await fh.read(first, 0, first.length, 0);
  let buf = first.subarray(0, bytesRead);
  if (buf.length >= METADATA_SIZE) {
    const count = buf.readUInt32BE(12);
    const need = METADATA_SIZE + ARCHIVE_INFO_SIZE * Math.min(count, MAX_ARCHIVES);
    if (need > buf.length && need <= st.size) {
      buf = Buffer.alloc(need);
      const r = await fh.read(buf, 0, need, 0);
      buf = buf.subarray(0, r.bytesRead);
    }
  }
  return parseHeader(buf, path, st.size);
}

/** Encodes a header for a fresh file; archives must already be validated and sorted. */
export function encodeHeader(archives: readonly ArchiveSpec[], xFilesFactor: number, method: AggregationMethod): Buffer {
  const headerSize = METADATA_SIZE + ARCHIVE_INFO_SIZE * archives.length;
  const buf = Buffer.alloc(headerSize);
  let maxRetention = 0;
  for (const [spp, pts] of archives) maxRetention = Math.max(maxRetention, spp * pts);
  buf.writeUInt32BE(aggregationType(method), 0);
  buf.writeUInt32BE(maxRetention, 4);
  buf.writeFloatBE(xFilesFactor, 8);
  buf.writeUInt32BE(archives.length, 12);
  let offset = headerSize;
  archives.forEach(([spp, pts], i) => {
    const at = METADATA_SIZE + i * ARCHIVE_INFO_SIZE;
    buf.writeUInt32BE(offset, at);
    buf.writeUInt32BE(spp, at + 4);
    buf.writeUInt32BE(pts, at + 8);
    offset += pts * POINT_SIZE;
  });
  return buf;
}

/** Size in bytes of a file with these archives. */
export function whisperFileSize(archives: readonly ArchiveSpec[]): number {
  let size = METADATA_SIZE + ARCHIVE_INFO_SIZE * archives.length;
  for (const [, pts] of archives) size += pts * POINT_SIZE;
  return size;
}

/** Python's floor modulo: the slot arithmetic must wrap backwards for points older than the base. */
export function floorMod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
