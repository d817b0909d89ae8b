import { open, unlink } from 'node:fs/promises';
import { encodeHeader, whisperFileSize, type AggregationMethod, type ArchiveSpec } from './header.js';
import { writeAt } from './slots.js';

export class InvalidConfiguration extends Error {
  override name = 'InvalidConfiguration';
}

/**
 * Sorts and checks an archive list with whisper's rules (§1.5): at least one archive, distinct
 * precisions, each dividing the next, strictly growing retention, and enough points in each
 * archive to fill one slot of the next. Returns the sorted copy.
 */
const UINT32_MAX = 0xffffffff;

export function validateArchiveList(list: readonly ArchiveSpec[]): ArchiveSpec[] {
  if (list.length === 0) throw new InvalidConfiguration('You must specify at least one archive configuration!');
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  for (const [spp, pts] of sorted) {
    if (!Number.isInteger(spp) || !Number.isInteger(pts) || spp <= 0 || pts <= 0) {
      throw new InvalidConfiguration(`archive (${spp}, ${pts}) must have positive integer precision and points`);
    }
  }
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [spp, pts] = sorted[i]!;
    const [nspp, npts] = sorted[i + 1]!;
    if (!(spp < nspp)) throw new InvalidConfiguration(`two archives with the same precision (archive${i}: ${spp}s, archive${i + 1}: ${nspp}s)`);
    if (nspp % spp !== 0) {
      throw new InvalidConfiguration(`higher precision archives' precision must evenly divide all lower precision archives' precision (archive${i}: ${spp}, archive${i + 1}: ${nspp})`);
    }
    if (!(nspp * npts > spp * pts)) {
      throw new InvalidConfiguration(`lower precision archives must cover larger time intervals than higher precision archives (archive${i}: ${spp * pts} seconds, archive${i + 1}: ${nspp * npts} seconds)`);
    }
    if (!(pts >= Math.floor(nspp / spp))) {
      throw new InvalidConfiguration(`each archive must have at least enough points to consolidate to the next archive (archive${i + 1} consolidates ${nspp / spp} of archive${i}'s points but it has only ${pts} total points)`);
    }
  }
  // the header holds the retention and each archive's offset as 32-bit unsigned integers: whisper
  // itself fails at create (struct.error), so carbon drops every point of such a series
  const [lastSpp, lastPts] = sorted[sorted.length - 1]!;
  if (lastSpp * lastPts > UINT32_MAX) {
    throw new InvalidConfiguration(`a retention of ${lastSpp * lastPts} seconds (archive${sorted.length - 1}: ${lastSpp}s × ${lastPts}) is more than a whisper header holds (${UINT32_MAX} seconds, about 136 years)`);
  }
  let offset = 16 + 12 * sorted.length;
  for (let i = 0; i < sorted.length - 1; i++) offset += sorted[i]![1] * 12;
  if (offset > UINT32_MAX) {
    throw new InvalidConfiguration(`the archives make a file over 4 GiB (archive${sorted.length - 1} would start at byte ${offset}): a whisper header cannot point there`);
  }
  return sorted;
}

export interface CreateOptions {
  xFilesFactor?: number;
  aggregationMethod?: AggregationMethod;
  /** 'zero' writes zeros over the data area (whisper's default); 'sparse' only sets the size */
  allocation?: 'zero' | 'sparse';
  /** fsync before close (a file renamed into place must be on disk first) */
  sync?: boolean;
}

const ZERO_CHUNK = 1 << 20;

/**
 * Creates a new Whisper file exactly as whisper.create does (same bytes). Refuses an existing
 * path; on any I/O error the half-written file is removed, so no zero-byte or short file stays.
 */
export async function createWhisper(path: string, archiveList: readonly ArchiveSpec[], opts: CreateOptions = {}): Promise<void> {
  const xff = opts.xFilesFactor ?? 0.5;
  const method = opts.aggregationMethod ?? 'average';
  if (!(xff >= 0 && xff <= 1)) throw new InvalidConfiguration(`Invalid xFilesFactor ${xff}, not between 0 and 1`);
  const archives = validateArchiveList(archiveList);
  const header = encodeHeader(archives, xff, method);
  const size = whisperFileSize(archives);
  const fh = await open(path, 'wx');
  try {
    // writeAt loops over short writes: on a full disk the short write comes first, ENOSPC next
    await writeAt(fh, header, 0);
    if (opts.allocation === 'sparse') {
      await fh.truncate(size);
    } else {
      const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, size - header.length));
      for (let pos = header.length; pos < size; pos += zeros.length) {
        const n = Math.min(zeros.length, size - pos);
        await writeAt(fh, n === zeros.length ? zeros : zeros.subarray(0, n), pos);
      }
    }
    if (opts.sync) await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
}
