/**
 * Python float() grammar on a region of a string, without allocating a substring on the common
 * paths: `[+-]digits[.digits][e[+-]digits]`, `_` between digits, and the words inf, infinity and
 * nan in any case. Returns undefined for anything Python would refuse.
 */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT = 2 ** 53;

export function parsePyFloat(s: string, start: number, end: number): number | undefined {
  let i = start;
  let neg = false;
  let c = s.charCodeAt(i);
  if (c === 43 /* + */ || c === 45 /* - */) {
    neg = c === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let fracDigits = 0;
  let sawDot = false;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mant = mant * 10 + (c - 48);
      digits++;
      if (sawDot) fracDigits++;
    } else if (c === 46 /* . */ && !sawDot) {
      sawDot = true;
    } else break;
  }
  if (i === end) {
    // Clinger's fast path: an exact integer mantissa divided by an exact power of ten is
    // correctly rounded, i.e. identical to what Number() and Python's float() produce.
    if (digits === 0) return undefined;
    if (mant < MAX_EXACT && fracDigits <= 22) {
      const v = fracDigits === 0 ? mant : mant / POW10[fracDigits]!;
      return neg ? -v : v;
    }
  }
  return slowParse(s.slice(start, end));
}

const NUMERIC = /^[+-]?(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?$/;
const WORDS = /^[+-]?(?:inf|infinity|nan)$/i;

function slowParse(t: string): number | undefined {
  if (WORDS.test(t)) {
    const w = t.replace(/^[+-]/, '').toLowerCase();
    if (w === 'nan') return NaN;
    return t.startsWith('-') ? -Infinity : Infinity;
  }
  if (!NUMERIC.test(t)) return undefined;
  const v = Number(t.includes('_') ? t.replace(/_/g, '') : t);
  // Number('') and Number('.') and Number('e5') are not Python floats
  if (Number.isNaN(v) || !/\d/.test(t.split(/[eE]/)[0]!)) return undefined;
  return v;
}
