import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { encodeHeader, whisperFileSize, type AggregationMethod, type ArchiveSpec } from './header.js';
import { InvalidConfiguration, validateArchiveList } from './create.js';

/**
 * The positioned I/O the library needs. fs/promises' FileHandle satisfies it as is (async I/O on
 * libuv's thread pool, for the event-loop thread); SyncFile implements it with synchronous
 * syscalls for a worker thread, where blocking is the point and a thread-pool round trip per
 * 12-byte read would only cost.
 */
export interface WhisperFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  stat(): Promise<{ size: number }>;
}

export class SyncFile implements WhisperFile {
  constructor(readonly fd: number) {}

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return { bytesRead: readSync(this.fd, buffer, offset, length, position) };
  }

  async write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return { bytesWritten: writeSync(this.fd, buffer, offset, length, position) };
  }

  async stat(): Promise<{ size: number }> {
    return { size: fstatSync(this.fd).size };
  }
}

const ZEROS = Buffer.alloc(1 << 16);

/**
 * whisper.create with synchronous syscalls (for a worker thread); same bytes as createWhisper.
 * Returns the open file descriptor (read-write) so that the caller can update the new file
 * without opening it again. On any error the half-written file is removed.
 */
export function createWhisperSync(
  path: string,
  archiveList: readonly ArchiveSpec[],
  opts: { xFilesFactor?: number; aggregationMethod?: AggregationMethod; allocation?: 'zero' | 'sparse' } = {},
): number {
  const xff = opts.xFilesFactor ?? 0.5;
  if (!(xff >= 0 && xff <= 1)) throw new InvalidConfiguration(`Invalid xFilesFactor ${xff}, not between 0 and 1`);
  const archives = validateArchiveList(archiveList);
  const header = encodeHeader(archives, xff, opts.aggregationMethod ?? 'average');
  const size = whisperFileSize(archives);
  const fd = openSync(path, 'wx+');
  try {
    writeFully(fd, header, 0);
    if (opts.allocation === 'sparse') {
      // one byte at the end sets the size, as whisper's sparse create does
      writeFully(fd, ZEROS.subarray(0, 1), size - 1);
    } else {
      for (let pos = header.length; pos < size; pos += ZEROS.length) {
        writeFully(fd, ZEROS.subarray(0, Math.min(ZEROS.length, size - pos)), pos);
      }
    }
    return fd;
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
    throw err;
  }
}

/** Loops over short writes (on a full disk the short write comes first, ENOSPC next). */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = writeSync(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw new Error('short write');
    done += n;
  }
}

