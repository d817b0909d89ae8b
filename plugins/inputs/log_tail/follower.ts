import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { InstanceStats, Logger } from '../../../core/index.js';
import type { SavedOffset } from './offsets.js';

export interface FollowerOptions {
  readonly startAt: 'end' | 'beginning';
  readonly maxLineBytes: number;
  /** bytes per read call */
  readonly chunkBytes?: number;
  /** a file whose path stays missing this long is closed (its space freed) */
  readonly releaseDeletedMs: number;
}

const NL = 10;
/** leading bytes fingerprinted to tell a file from a new one that got the same inode number */
const HEAD_BYTES = 256;

interface Head {
  readonly headBytes: number;
  readonly headHash: string;
}

async function readHead(fh: FileHandle, n: number): Promise<Head> {
  const buf = Buffer.alloc(Math.min(n, HEAD_BYTES));
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  return { headBytes: bytesRead, headHash: createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex') };
}

/**
 * Follows one path like `tail -F`: reads appended lines, notices when the path names a new file
 * (rotation by rename/create: the old file is read to its end first, the new one from its start) or
 * when the file shrank (truncation, copytruncate: restart at 0), and waits for a missing file to
 * appear. All I/O is asynchronous; `poll()` calls must not overlap (the owner serialises them).
 */
export class FileFollower {
  private fh: FileHandle | undefined;
  private dev = 0;
  private ino = 0;
  /** next byte to read */
  private offset = 0;
  /** bytes of an incomplete last line, waiting for its newline */
  private partial: Buffer = Buffer.alloc(0);
  /** inside an over-long line: drop bytes until the next newline */
  private skipping = false;
  /** the first open uses the remembered offset or startAt; later opens are new files, read whole */
  private firstOpen = true;
  private missingReported = false;
  /** when the path was first seen missing while the old file was still open */
  private goneSince: number | undefined;
  /** fingerprint of the open file's first bytes (grows with the file up to HEAD_BYTES) */
  private head: Head = { headBytes: 0, headHash: '' };
  /** set when a read error closed the handle: the next open may resume the same file */
  private reopen = false;
  private readonly buf: Buffer;

  constructor(
    readonly path: string,
    private readonly opts: FollowerOptions,
    private readonly saved: SavedOffset | undefined,
    private readonly onLine: (line: string) => void,
    private readonly stats: InstanceStats,
    private readonly log: Logger,
  ) {
    this.buf = Buffer.allocUnsafe(opts.chunkBytes ?? 65536);
  }

  /** Where a restart should resume: after the last complete line handed on. */
  position(): SavedOffset | undefined {
    if (this.fh === undefined && this.firstOpen) return this.saved;
    if (this.ino === 0 && this.dev === 0) return undefined;
    return { dev: this.dev, ino: this.ino, offset: this.offset - this.partial.length, ...this.head };
  }

  /** Reads whatever is new, handling rotation and truncation. Never throws. */
  async poll(): Promise<void> {
    try {
      if (this.fh === undefined && !(await this.openCurrent())) return;
      await this.drain();
      if (this.head.headBytes < HEAD_BYTES && this.offset > this.head.headBytes && this.fh !== undefined) {
        this.head = await readHead(this.fh, this.offset);
      }
      const st = await statOrUndefined(this.path);
      if (st === undefined) {
        // Path gone: rotated away and not yet recreated, so keep the old handle for late writes;
        // but not forever, or a deleted log's disk space is never freed.
        this.goneSince ??= Date.now();
        if (Date.now() - this.goneSince >= this.opts.releaseDeletedMs) {
          this.endOfFile();
          await this.closeHandle();
          this.stats.count('released');
          this.log.info('log file gone; released it and waiting for a new one', { path: this.path });
        }
        return;
      }
      this.goneSince = undefined;
      if (st.ino !== this.ino || st.dev !== this.dev) {
        await this.drain();
        this.endOfFile();
        await this.closeHandle();
        this.stats.count('rotations');
        this.log.debug('log file rotated', { path: this.path });
        if (await this.openCurrent()) await this.drain();
        return;
      }
      if (st.size < this.offset) {
        this.stats.count('truncations');
        this.log.debug('log file truncated', { path: this.path, size: st.size, offset: this.offset });
        this.offset = 0;
        this.partial = Buffer.alloc(0);
        this.skipping = false;
        // the fingerprint is of the content now (else a restart takes the file for another one)
        this.head = { headBytes: 0, headHash: '' };
        await this.drain();
        if (this.fh !== undefined) this.head = await readHead(this.fh, this.offset);
      }
    } catch (err) {
      this.stats.addError('read');
      this.log.limited(`read.${this.path}`, 'cannot read log file', { path: this.path, error: err as Error });
      this.reopen = this.fh !== undefined;
      await this.closeHandle();
    }
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async openCurrent(): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!this.missingReported) {
        this.missingReported = true;
        this.log.info('log file does not exist yet; waiting for it', { path: this.path });
      }
      // A file that appears later is new: read it from its first byte.
      this.firstOpen = false;
      return false;
    }
    const st = await fh.stat();
    // Reopening the same file after a read error closed it resumes after the last whole line
    // instead of reading it all again.
    const prev = this.reopen ? this.position() : undefined;
    this.reopen = false;
    const resume = prev !== undefined && (await isSameFile(fh, st, prev)) ? prev.offset : 0;
    this.fh = fh;
    this.dev = st.dev;
    this.ino = st.ino;
    this.partial = Buffer.alloc(0);
    this.skipping = false;
    this.missingReported = false;
    this.offset = resume <= st.size ? resume : 0;
    this.head = await readHead(fh, st.size);
    if (this.firstOpen) {
      this.firstOpen = false;
      this.offset = await this.initialOffset(fh, st);
    }
    return true;
  }

  private async initialOffset(fh: FileHandle, st: Stats): Promise<number> {
    const s = this.saved;
    if (s !== undefined) {
      if (await isSameFile(fh, st, s)) {
        if (st.size >= s.offset) return s.offset;
        this.stats.count('truncations');
        return 0;
      }
      // Another file under the same name: the old one rotated while we were down.
      this.stats.count('rotations');
      return 0;
    }
    if (this.opts.startAt === 'beginning' || st.size === 0) return 0;
    // Starting at the end in the middle of a line would hand on half a line: skip to its end.
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, st.size - 1);
    if (last[0] !== NL) this.skipping = true;
    return st.size;
  }

  private async drain(): Promise<void> {
    const fh = this.fh;
    if (fh === undefined) return;
    for (;;) {
      const { bytesRead } = await fh.read(this.buf, 0, this.buf.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      this.consume(this.buf.subarray(0, bytesRead));
    }
  }

  private consume(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else if (this.partial.length > 0) {
        const line = Buffer.concat([this.partial, chunk.subarray(start, nl)]);
        this.partial = Buffer.alloc(0);
        this.handOn(line);
      } else {
        this.handOn(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start >= chunk.length || this.skipping) return;
    const rest = chunk.subarray(start);
    if (this.partial.length + rest.length > this.opts.maxLineBytes) {
      this.tooLong();
      this.partial = Buffer.alloc(0);
      this.skipping = true;
      return;
    }
    // Copy: the read buffer is reused by the next read.
    this.partial = Buffer.concat([this.partial, rest]);
  }

  private handOn(line: Buffer): void {
    if (line.length > this.opts.maxLineBytes) {
      this.tooLong();
      return;
    }
    this.onLine(line.toString('utf8'));
  }

  private tooLong(): void {
    this.stats.addDropped('line_too_long');
    this.log.limited('line_too_long', 'log line longer than maxLineBytes dropped', { path: this.path, maxLineBytes: this.opts.maxLineBytes });
  }

  /** A rotated-away file is complete: its unterminated last line is a line. */
  private endOfFile(): void {
    if (this.partial.length > 0 && !this.skipping) this.handOn(this.partial);
    this.partial = Buffer.alloc(0);
    this.skipping = false;
  }

  private async closeHandle(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh !== undefined) await fh.close().catch(() => undefined);
  }
}

/** Same device and inode, and the same first bytes (an inode number alone may have been reused). */
async function isSameFile(fh: FileHandle, st: Stats, o: SavedOffset): Promise<boolean> {
  if (o.dev !== st.dev || o.ino !== st.ino) return false;
  if (o.headBytes === 0) return true;
  const now = await readHead(fh, o.headBytes);
  return now.headBytes === o.headBytes && now.headHash === o.headHash;
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
