/**
 * whisper.fetch with synchronous positioned reads, for the read worker thread. Same answers as
 * fetchWindow + fetchArchive (whisper 1.1.4 semantics), at a fraction of their cost:
 *  - through fs/promises a fetch is 6 thread-pool round trips (open, fstat, header, base,
 *    slots, close), each a promise and a queue hop; here each is a plain syscall;
 *  - the header and usually the archive's base come from ONE read of the file's first KiB;
 *  - points are decoded with a DataView straight into the result's Float64Array from a reused
 *    scratch buffer; Buffer.readDoubleBE per point was 45 % of the CPU of a 1000-file fetch.
 * Files are opened per read and closed at once: nothing is cached between reads, so a file
 * replaced by rename (whisper-resize, a restore) is never read through a stale descriptor or
 * with a stale header, and the persister's descriptor budget stays untouched.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CorruptWhisperFile, POINT_SIZE, floorMod, parseHeader } from '../../shared/whisper-format/header.js';
import { fetchWindow } from '../../shared/whisper-format/fetch.js';
import type { ReadResult } from './read-protocol.js';

/** 16 + 64 archives × 12 bytes, rounded up: the largest header parseHeader accepts, in one read */
const HEAD_BYTES = 1024;
/**
 * points read per pread: the scratch buffer stays under 1 MB. Sized to the whole read, one read
 * of a year at one second (31.5 M points) kept 380 MB of scratch in the thread for good.
 */
const PIECE_POINTS = 1 << 16;

export class WhisperReader {
  private scratch = Buffer.allocUnsafeSlow(1 << 17);
  private view = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);

  /** `maxValues`: a grid longer than this is not allocated; the file answers 'too_large' */
  read(path: string, from: number, until: number, now: number, maxValues = Infinity): ReadResult {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      return failed(err);
    }
    try {
      return this.readOpen(fd, path, from, until, now, maxValues);
    } catch (err) {
      return failed(err);
    } finally {
      closeSync(fd);
    }
  }

  private readOpen(fd: number, path: string, from: number, until: number, now: number, maxValues: number): ReadResult {
    const size = fstatSync(fd).size;
    const headLen = this.readAt(fd, 0, Math.min(size, HEAD_BYTES), 0);
    const header = parseHeader(this.scratch.subarray(0, headLen), path, size);
    const w = fetchWindow(header, from, until, now);
    if (!w) return { ok: false, code: 'none' };
    const { archive } = w;
    const step = archive.secondsPerPoint;
    const fromI = w.from - floorMod(w.from, step) + step;
    let untilI = w.until - floorMod(w.until, step) + step;
    if (fromI === untilI) untilI += step;
    const count = (untilI - fromI) / step;
    if (count > maxValues) return { ok: false, code: 'too_large', name: 'FetchTooLarge', message: `${count} values`, points: count };
    const values = new Float64Array(count);
    // slot 0's timestamp: 0 while the archive was never written
    const base = archive.offset + 4 <= headLen ? this.view.getUint32(archive.offset) : this.readAt(fd, 0, 4, archive.offset) === 4 ? this.view.getUint32(0) : 0;
    let n = 0;
    if (base !== 0) {
      // whisper reads at most one lap of the archive; beyond it the slots stay null
      n = Math.min(count, archive.points);
      let slot = floorMod(Math.floor((fromI - base) / step), archive.points);
      // in pieces, each up to the end of the ring at most (the range wraps around to slot 0)
      for (let i = 0, t = fromI; i < n; ) {
        const k = Math.min(n - i, archive.points - slot, PIECE_POINTS);
        this.ensure(k * POINT_SIZE);
        this.readAt(fd, 0, k * POINT_SIZE, archive.offset + slot * POINT_SIZE);
        const v = this.view;
        for (let j = 0, o = 0; j < k; j++, t += step, o += POINT_SIZE) {
          values[i + j] = v.getUint32(o) === t ? v.getFloat64(o + 4) : NaN;
        }
        i += k;
        slot = slot + k === archive.points ? 0 : slot + k;
      }
    }
    values.fill(NaN, n);
    return {
      ok: true,
      start: fromI,
      end: untilI,
      step,
      values,
      aggregationMethod: header.aggregationMethod,
      xFilesFactor: header.xFilesFactor,
      rawStep: header.archives[0]!.secondsPerPoint,
    };
  }

  /** Reads into the scratch buffer at `at`; a short read (truncated file) leaves zeros, i.e. empty slots. */
  private readAt(fd: number, at: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const r = readSync(fd, this.scratch, at + done, length - done, position + done);
      if (r <= 0) break;
      done += r;
    }
    if (done < length) this.scratch.fill(0, at + done, at + length);
    return done;
  }

  private ensure(bytes: number): void {
    if (this.scratch.length >= bytes) return;
    this.scratch = Buffer.allocUnsafeSlow(Math.max(bytes, this.scratch.length * 2));
    this.view = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
  }
}

function failed(err: unknown): ReadResult {
  const e = err as NodeJS.ErrnoException;
  return {
    ok: false,
    code: e instanceof CorruptWhisperFile ? 'corrupt' : (e.code ?? 'error'),
    name: e.name ?? 'Error',
    message: e.message ?? String(err),
  };
}
