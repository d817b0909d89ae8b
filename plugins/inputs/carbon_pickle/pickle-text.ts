/**
 * The text grammars a pickle stream borrows from Python: `float()` of a string (carbon converts
 * timestamps and values with it, and Etsy statsd sends values as strings), the decimal integers of
 * protocol 0 (INT, LONG, PUT, GET), the quoted literal of STRING and the raw-unicode-escape of
 * UNICODE. Written from the Python language reference; every function is pure and allocation-light.
 */

/** Thrown by the text decoders; the decoder turns it into a frame refusal. */
export class TextError {
  constructor(readonly detail: string) {}
}

// Python float(): optional sign, digits with single `_` between digits, optional fraction and
// exponent; or nan / inf / infinity in any case. Surrounding whitespace is allowed.
const FLOAT_RE = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL_RE = /^([+-]?)(nan|inf|infinity)$/i;

/**
 * `float(s)` as Python computes it, or undefined where Python raises ValueError.
 * JavaScript's Number() differs on purpose-relevant inputs ("" → 0, "0x10" → 16, "1_0" → NaN),
 * hence the grammar check. Unicode digits (which Python also accepts) are not.
 */
export function parsePyFloat(raw: string): number | undefined {
  let s = raw;
  // trim only when needed: the common case ("2.5") allocates nothing
  if (s.length === 0) return undefined;
  if (s.charCodeAt(0) <= 32 || s.charCodeAt(s.length - 1) <= 32) s = s.trim();
  if (FLOAT_RE.test(s)) return Number(s.indexOf('_') >= 0 ? s.replace(/_/g, '') : s);
  const m = SPECIAL_RE.exec(s);
  if (!m) return undefined;
  if (m[2]!.toLowerCase() === 'nan') return NaN;
  return m[1] === '-' ? -Infinity : Infinity;
}

// C's PyOS_string_to_double, which the protocol-0 FLOAT opcode uses: no whitespace, no `_`
const C_FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The argument of the protocol-0 FLOAT opcode as CPython's unpickler reads it, or undefined
 * where it refuses the pickle: stricter than float() (no surrounding spaces, no `_`), and a
 * finite literal too large for a double is an OverflowError, not infinity.
 */
export function parseFloatOpcode(s: string): number | undefined {
  if (C_FLOAT_RE.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : undefined;
  }
  const m = SPECIAL_RE.exec(s);
  if (!m) return undefined;
  if (m[2]!.toLowerCase() === 'nan') return NaN;
  return m[1] === '-' ? -Infinity : Infinity;
}

// int(s, 10) and int(s, 0) literals: whitespace around, sign, `_` between digits. Base 0 also
// takes 0x/0o/0b prefixes and refuses leading zeros on decimals (except an all-zero literal).
const INT10_RE = /^[+-]?\d(?:_?\d)*$/;
const INT0_RE = /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?0)*|[1-9](?:_?\d)*)$/;
// C strtol(s, NULL, 0): leading whitespace, sign, then 0x-hex, 0-octal or decimal, nothing after
const STRTOL_RE = /^\s*([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9]\d*))$/;

/**
 * Python's int(s, base) for base 10 or 0, as a double (float(int) rounding; Infinity past
 * 1.8e308). Returns undefined where Python raises ValueError.
 */
export function parsePyInt(raw: string, base: 0 | 10): number | undefined {
  const s = raw.trim();
  if (!(base === 10 ? INT10_RE : INT0_RE).test(s)) return undefined;
  const clean = s.indexOf('_') >= 0 ? s.replace(/_/g, '') : s;
  // `+ 0`: a Python int has no negative zero (`-0` is 0, stored as +0.0)
  if (base === 10 || !/[xXoObB]/.test(clean)) return Number(clean) + 0;
  const neg = clean.startsWith('-');
  const digits = clean.replace(/^[+-]/, '');
  const v = Number(BigInt(digits.toLowerCase()));
  return (neg ? -v : v) + 0;
}

/**
 * The argument of the protocol-0 INT opcode. CPython tries C strtol(s, 0) first (so `010` is
 * octal 8) and falls back to int(s, 0) when strtol does not consume everything.
 */
export function parseIntOpcode(s: string): number | undefined {
  const m = STRTOL_RE.exec(s);
  if (m) {
    const neg = m[1] === '-' ? -1 : 1;
    // `+ 0`: no negative zero from `-0` or `-00`
    if (m[2] !== undefined) return neg * Number(BigInt(`0x${m[2]}`)) + 0;
    if (m[3] !== undefined) return neg * (m[3].length === 0 ? 0 : Number(BigInt(`0o${m[3]}`))) + 0;
    return neg * Number(m[4]);
  }
  return parsePyInt(s, 0);
}

/**
 * The body of a protocol-0 STRING argument: a Python bytes literal quoted with ' or ", decoded
 * with the escape rules of `codecs.escape_decode`. Returns the raw bytes; the caller decodes them
 * as UTF-8 (carbon unpickles with encoding='utf-8').
 */
export function unquotePyString(line: Uint8Array): Uint8Array {
  const n = line.length;
  const q = line[0];
  if (n < 2 || (q !== 0x27 && q !== 0x22) || line[n - 1] !== q) throw new TextError('STRING argument must be quoted');
  // No backslash: the body is the bytes between the quotes, no copy needed.
  if (line.indexOf(0x5c, 1) < 0 || line.indexOf(0x5c, 1) >= n - 1) return line.subarray(1, n - 1);
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 1; i < n - 1; i++) {
    const c = line[i]!;
    if (c !== 0x5c) {
      out[o++] = c;
      continue;
    }
    i++;
    if (i >= n - 1) throw new TextError('trailing \\ in STRING');
    const e = line[i]!;
    switch (e) {
      case 0x0a: break; // backslash-newline: line continuation
      case 0x5c: out[o++] = 0x5c; break;
      case 0x27: out[o++] = 0x27; break;
      case 0x22: out[o++] = 0x22; break;
      case 0x61: out[o++] = 0x07; break; // \a
      case 0x62: out[o++] = 0x08; break; // \b
      case 0x66: out[o++] = 0x0c; break; // \f
      case 0x6e: out[o++] = 0x0a; break; // \n
      case 0x72: out[o++] = 0x0d; break; // \r
      case 0x74: out[o++] = 0x09; break; // \t
      case 0x76: out[o++] = 0x0b; break; // \v
      case 0x78: { // \xhh: exactly two hex digits
        const h1 = hexValue(line[i + 1]);
        const h2 = i + 2 < n - 1 ? hexValue(line[i + 2]) : -1;
        if (h1 < 0 || h2 < 0 || i + 2 >= n - 1) throw new TextError('invalid \\x escape in STRING');
        out[o++] = (h1 << 4) | h2;
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) { // \o, \oo, \ooo (octal, value taken mod 256 as Python does)
          let v = e - 0x30;
          for (let k = 0; k < 2 && i + 1 < n - 1 && line[i + 1]! >= 0x30 && line[i + 1]! <= 0x37; k++) v = v * 8 + (line[++i]! - 0x30);
          out[o++] = v & 0xff;
        } else { // unknown escapes are kept verbatim
          out[o++] = 0x5c;
          out[o++] = e;
        }
    }
  }
  return out.subarray(0, o);
}

/**
 * A protocol-0 UNICODE argument: Python's raw-unicode-escape. Bytes are Latin-1 code points,
 * except `\uXXXX` and `\UXXXXXXXX` after an odd number of backslashes. Lone surrogates (Python
 * accepts them, a file name cannot hold them) are refused.
 */
export function decodeRawUnicodeEscape(line: Uint8Array): string {
  if (line.indexOf(0x5c) < 0) return latin1(line, 0, line.length);
  let out = '';
  let runStart = 0;
  const n = line.length;
  let i = 0;
  while (i < n) {
    if (line[i] !== 0x5c) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && line[j] === 0x5c) j++;
    const odd = ((j - i) & 1) === 1;
    if (!odd || j >= n || (line[j] !== 0x75 && line[j] !== 0x55)) {
      i = j;
      continue;
    }
    // keep the backslashes before the escaping one, then decode the escape
    out += latin1(line, runStart, j - 1);
    const count = line[j] === 0x75 ? 4 : 8;
    let cp = 0;
    let k = j + 1;
    for (let d = 0; d < count; d++, k++) {
      const h = k < n ? hexValue(line[k]) : -1;
      if (h < 0) throw new TextError(`truncated \\${count === 4 ? 'u' : 'U'} escape in UNICODE`);
      cp = cp * 16 + h;
    }
    if (cp > 0x10ffff) throw new TextError('\\U escape out of range in UNICODE');
    out += String.fromCodePoint(cp);
    i = runStart = k;
  }
  out += latin1(line, runStart, n);
  if (LONE_SURROGATE.test(out)) throw new TextError('lone surrogate in UNICODE');
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
