/**
 * Splits one connection's byte stream into Carbon pickle frames: a u32 big-endian length, then
 * that many bytes. Socket-free, so framing is tested without a network.
 *
 * Memory: a frame is never allocated from its announced length. Partial frames are held as the
 * chunks actually received and joined once complete, so a client that announces 1 MiB and sends
 * one byte holds one byte. A length over the limit is refused as soon as its 4 bytes arrive.
 * Whole frames inside one read are decoded straight from the socket's buffer, without a copy.
 */

export interface FrameBudget {
  /** bytes held in partial frames by every connection of the input together */
  held: number;
  readonly max: number;
}

/** `closed`: the owner called close() (the connection ended, or a frame broke a limit). */
export type FrameReaderState = 'open' | 'frame_too_long' | 'over_budget' | 'closed';

export class FrameReader {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** body length of the frame being assembled, or -1 while its header is incomplete */
  private need = -1;
  private state: FrameReaderState = 'open';

  constructor(
    private readonly maxFrameBytes: number,
    private readonly budget: FrameBudget,
    private readonly onFrame: (buf: Buffer, start: number, end: number) => void,
  ) {}

  /** the length announced by the refused header, when state is frame_too_long */
  refusedLength = 0;

  get status(): FrameReaderState {
    return this.state;
  }

  /** bytes of an unfinished frame (header included) held at the moment */
  get pendingBytes(): number {
    return this.partBytes;
  }

  /**
   * Feeds one read. Calls onFrame for every complete frame, in order. Returns the state: once it
   * is not 'open' the reader ignores further input and the caller closes the connection.
   */
  push(chunk: Buffer): FrameReaderState {
    if (this.state !== 'open') return this.state;
    let pos = 0;
    if (this.partBytes > 0) {
      pos = this.completePending(chunk);
      if (pos < 0 || this.state !== 'open') return this.state;
    }
    const n = chunk.length;
    while (this.state === 'open' && n - pos >= 4) {
      const len = chunk.readUInt32BE(pos);
      if (len > this.maxFrameBytes) return this.refuse(len);
      if (n - pos - 4 < len) break;
      this.onFrame(chunk, pos + 4, pos + 4 + len);
      pos += 4 + len;
    }
    if (this.state === 'open' && pos < n) this.hold(chunk.subarray(pos));
    return this.state;
  }

  /** Stops reading and releases what an unfinished frame holds. Returns the bytes dropped. */
  close(): number {
    const dropped = this.partBytes;
    this.release();
    if (this.state === 'open') this.state = 'closed';
    return dropped;
  }

  /**
   * Continues the frame left open by earlier reads. Returns the position in `chunk` after it,
   * or -1 when the chunk was consumed (or the reader closed) without completing it.
   */
  private completePending(chunk: Buffer): number {
    if (this.need < 0) {
      // the header itself was split: take just enough bytes to read it
      const take = Math.min(4 - this.partBytes, chunk.length);
      this.hold(chunk.subarray(0, take)); // reads the header once it is whole
      if (this.state !== 'open' || this.need < 0) return -1;
      return this.continueBody(chunk, take);
    }
    return this.continueBody(chunk, 0);
  }

  private continueBody(chunk: Buffer, from: number): number {
    const missing = 4 + this.need - this.partBytes;
    const avail = chunk.length - from;
    if (avail < missing) {
      if (avail > 0) this.hold(chunk.subarray(from));
      return -1;
    }
    const frame = Buffer.concat([...this.parts, chunk.subarray(from, from + missing)]);
    this.release();
    this.onFrame(frame, 4, frame.length);
    return from + missing;
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return;
    if (this.budget.held + part.length > this.budget.max) {
      this.release();
      this.state = 'over_budget';
      return;
    }
    // copy: the socket's buffer may be reused, and a slice would pin the whole read
    this.parts.push(Buffer.from(part));
    this.partBytes += part.length;
    this.budget.held += part.length;
    if (this.need < 0 && this.partBytes >= 4) {
      const header = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, 4);
      const len = header.readUInt32BE(0);
      if (len > this.maxFrameBytes) this.refuse(len);
      else this.need = len;
    }
  }

  private refuse(len: number): FrameReaderState {
    this.release();
    this.refusedLength = len;
    this.state = 'frame_too_long';
    return this.state;
  }

  private release(): void {
    this.budget.held -= this.partBytes;
    this.parts = [];
    this.partBytes = 0;
    this.need = -1;
  }
}
