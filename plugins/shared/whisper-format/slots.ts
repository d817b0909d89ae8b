import type { WhisperFile } from './io.js';
import { POINT_SIZE, type ArchiveInfo } from './header.js';

/**
 * Reads `count` consecutive slots of an archive starting at `slot`, wrapping at the archive's
 * end (one or two positioned reads). `count` is capped at the archive's size. A short read
 * (truncated file) leaves zeros, which read back as empty slots.
 */
export async function readSlots(fh: WhisperFile, archive: ArchiveInfo, slot: number, count: number): Promise<Buffer> {
  const n = Math.min(count, archive.points);
  const buf = Buffer.alloc(n * POINT_SIZE);
  const first = Math.min(n, archive.points - slot);
  await fh.read(buf, 0, first * POINT_SIZE, archive.offset + slot * POINT_SIZE);
  if (first < n) await fh.read(buf, first * POINT_SIZE, (n - first) * POINT_SIZE, archive.offset);
  return buf;
}

/** Timestamp stored in slot 0: the archive's base, 0 while the archive was never written. */
export async function readBase(fh: WhisperFile, archive: ArchiveInfo): Promise<number> {
  const buf = Buffer.alloc(4);
  const { bytesRead } = await fh.read(buf, 0, 4, archive.offset);
  return bytesRead === 4 ? buf.readUInt32BE(0) : 0;
}

export async function writeAt(fh: WhisperFile, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('short write');
    done += bytesWritten;
  }
}
