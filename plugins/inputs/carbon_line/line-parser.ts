import { isBadName, type BadNameReason, type NameCache } from '../../../core/index.js';
import { parsePyFloat } from './number.js';

/** Why a line was refused; each is a `dropped_by.<reason>` counter of the instance. */
export type LineReason =
  | 'bad_fields'
  | 'bad_value'
  | 'bad_timestamp'
  | 'nan_value'
  | 'line_too_long'
  | 'unterminated_line'
  | BadNameReason;

export interface LineSink {
  point(name: string, value: number, time: number): void;
  reject(reason: LineReason, line: string): void;
}

export interface LineParserOptions {
  readonly maxLineBytes: number;
  /** `path value` with no timestamp: carbon refuses it ('reject'); 'now' stamps it with the clock */
  readonly missingTimestamp: 'reject' | 'now';
}

/**
 * Parses Carbon plaintext lines (`path value timestamp`, any whitespace between fields) in
 * [start, end) of `text`, one line per separator. Separators: LF only for TCP, every line break
 * of Python's splitlines() for UDP. The hot loop works on indexes and allocates only the name.
 */
export class CarbonLineParser {
  constructor(
    private readonly opts: LineParserOptions,
    private readonly names: NameCache,
    private readonly sink: LineSink,
  ) {}

  /** Every line in text[start, end), lines separated by LF (TCP framing). */
  parseLF(text: string, start: number, end: number, now: number): void {
    let pos = start;
    while (pos < end) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0 || nl > end) nl = end;
      this.parseLine(text, pos, nl, now);
      pos = nl + 1;
    }
  }

  /** Every line of a datagram, split as Python's str.splitlines() does. */
  parseSplitlines(text: string, now: number): void {
    const n = text.length;
    let pos = 0;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? text.charCodeAt(i) : 10;
      if (c === 10 || c === 13 || c === 11 || c === 12 || c === 0x1c || c === 0x1d || c === 0x1e || c === 0x85 || c === 0x2028 || c === 0x2029) {
        this.parseLine(text, pos, i, now);
        if (c === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10) i++;
        pos = i + 1;
      }
    }
  }

  private readonly fast = new Int32Array(3);

  /** The fast path: exact when it accepts a line, otherwise it leaves the line to parseLine. */
  private fastLine(text: string, start: number, end: number, now: number): boolean {
    if (!fastTokens(text, start, end, this.fast)) return false;
    const a = this.fast[0]!, b = this.fast[1]!, e = this.fast[2]!;
    const t = parsePyFloat(text, b + 1, e);
    if (t === undefined || !Number.isFinite(t)) return false;
    const value = parsePyFloat(text, a + 1, b);
    if (value === undefined || value !== value) return false;
    const name = this.names.resolveRegion(text, start, a);
    if (isBadName(name)) return false;
    this.sink.point(name, value, Math.trunc(t) === -1 ? now : t);
    return true;
  }

  parseLine(text: string, start: number, end: number, now: number): void {
    if (end - start > this.opts.maxLineBytes / 3 && Buffer.byteLength(text.slice(start, end)) > this.opts.maxLineBytes) {
      this.sink.reject('line_too_long', text.slice(start, start + 200));
      return;
    }
    if (this.fastLine(text, start, end, now)) return;
    // tokenise on Python's whitespace: up to 4 tokens, the 4th only proves there are too many
    let t0s = -1, t0e = -1, t1s = -1, t1e = -1, t2s = -1, t2e = -1;
    let count = 0;
    let i = start;
    while (i < end) {
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end) break;
      const ts = i;
      while (i < end && !isSpace(text.charCodeAt(i))) i++;
      if (count === 0) { t0s = ts; t0e = i; }
      else if (count === 1) { t1s = ts; t1e = i; }
      else if (count === 2) { t2s = ts; t2e = i; }
      count++;
      if (count > 3) break;
    }
    if (count === 0) return; // blank line: nothing to store, nothing wrong
    let time: number;
    if (count === 3) {
      const t = parsePyFloat(text, t2s, t2e);
      if (t === undefined || !Number.isFinite(t)) {
        this.sink.reject('bad_timestamp', text.slice(start, end));
        return;
      }
      // carbon: int(timestamp) == -1 means now, so -1.9 too
      time = Math.trunc(t) === -1 ? now : t;
    } else if (count === 2 && this.opts.missingTimestamp === 'now') {
      time = now;
    } else {
      this.sink.reject('bad_fields', text.slice(start, end));
      return;
    }
    const value = parsePyFloat(text, t1s, t1e);
    if (value === undefined) {
      this.sink.reject('bad_value', text.slice(start, end));
      return;
    }
    if (value !== value) {
      this.sink.reject('nan_value', text.slice(start, end));
      return;
    }
    const name = this.names.resolveRegion(text, t0s, t0e);
    if (isBadName(name)) {
      this.sink.reject(name.bad, text.slice(start, end));
      return;
    }
    this.sink.point(name, value, time);
  }
}

/**
 * The common shape `name value timestamp` with single spaces, found with native indexOf instead
 * of a per-character loop. Returns false (and consumes nothing) for anything else, and the full
 * tokenizer decides, so reasons and results are the same either way.
 */
function fastTokens(text: string, start: number, end: number, out: Int32Array): boolean {
  const a = text.indexOf(' ', start);
  if (a <= start || a >= end) return false;
  const b = text.indexOf(' ', a + 1);
  if (b <= a + 1 || b >= end - 1) return false;
  let e = end;
  const last = text.charCodeAt(e - 1);
  if (last === 13) e--;
  if (e <= b + 1 || isSpace(text.charCodeAt(start)) || isSpace(text.charCodeAt(b + 1)) || isSpace(text.charCodeAt(e - 1))) return false;
  out[0] = a;
  out[1] = b;
  out[2] = e;
  return true;
}

/** Python str.split() whitespace (ASCII part; other Unicode spaces are refused in names). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f) || c === 0x85 || c === 0xa0;
}
