/**
 * Python's number formatting, because graphite-web builds series names with `%g`, `%d` and
 * `str()` and Grafana shows those names as legends: `scale(a.b,2)`, `constantLine` → `100.0`.
 */

/** Python `repr(float)` / `str(float)`: shortest round-trip digits, `.0` on integers, e-notation outside [1e-4, 1e16). */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= 16 || exp < -4) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp >= 0) {
    const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
    const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
    body = `${intPart}.${frac}`;
  } else {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return neg ? `-${body}` : body;
}

/** `str()` of a Python number that may be an int (integral JS numbers print without `.0`). */
export function pyNum(x: number, isInt: boolean): string {
  return isInt && Number.isInteger(x) ? String(x) : pyFloat(x);
}

/** Python `'%d' % x` (truncates toward zero) */
export function pyD(x: number): string {
  if (!Number.isFinite(x)) return pyFloat(x);
  return String(Math.trunc(x));
}

/** 10⁰ … 10²², each exactly (parsed, not computed) */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * Python 3 `round(x, n)`: correctly rounded from the exact binary value, exact ties to even.
 * perSecond, scaleToSeconds and exponentialMovingAverage round every point, so the common case
 * must not build strings. x·10ⁿ is computed in floating point: below 2⁵² every k + ½ is a double,
 * and correct rounding is monotonic, so the computed product lies on the same side of each half as
 * the exact one, or exactly on it. Off the half, the rounded integer k is certain, and k / 10ⁿ (one
 * correctly rounded division) is the double nearest that decimal, which is what Python returns.
 * On the half, the exact decimal expansion decides (roundExact).
 */
export function pyRound(x: number, n = 0): number {
  if (!Number.isFinite(x)) return x;
  const abs = Math.abs(x);
  if (Number.isInteger(n) && n >= 0 && n <= 22) {
    // past 2⁵² every double is a whole number: nothing after the point to round
    if (abs >= 2 ** 52) return x;
    const p = POW10[n]!;
    const y = abs * p;
    if (y < 2 ** 52) {
      const whole = Math.floor(y);
      const frac = y - whole; // exact: whole and y share y's exponent
      if (frac !== 0.5) {
        const r = frac > 0.5 ? whole + 1 : whole;
        return x < 0 && r !== 0 ? -r / p : r / p;
      }
    }
  }
  return roundExact(x, n);
}

/** pyRound from the exact decimal expansion (toFixed rounds from the exact value, ties up) */
export function roundExact(x: number, n: number): number {
  if (!Number.isFinite(x)) return x;
  const abs = Math.abs(x);
  if (n < 0) return x < 0 ? -roundToPowerOfTen(abs, -n) || 0 : roundToPowerOfTen(abs, -n);
  if (abs >= 2 ** 52 || n > 90) return x;
  const full = abs.toFixed(100);
  const dot = full.indexOf('.');
  const frac = full.slice(dot + 1);
  let r: number;
  if (frac[n] === '5' && /^0*$/.test(frac.slice(n + 1))) {
    const kept = full.slice(0, dot) + frac.slice(0, n);
    let digits = BigInt(kept);
    if (Number(kept[kept.length - 1]) % 2 === 1) digits += 1n;
    const str = digits.toString().padStart(n + 1, '0');
    r = Number(n === 0 ? str : `${str.slice(0, str.length - n)}.${str.slice(str.length - n)}`);
  } else {
    r = Number(abs.toFixed(n));
  }
  return x < 0 && r !== 0 ? -r : r;
}

/**
 * round(abs, -k) for k > 0, from the exact value: the whole part decides, the fraction only breaks
 * an exact tie (dividing by 10^k in floating point first rounded twice: round(1e123, -2) was off)
 */
function roundToPowerOfTen(abs: number, k: number): number {
  const whole = Math.trunc(abs);
  const f = 10n ** BigInt(k);
  const w = BigInt(whole);
  let q = w / f;
  const twice = 2n * (w % f);
  if (twice > f || (twice === f && (abs !== whole || q % 2n === 1n))) q += 1n;
  return Number(q * f);
}

/**
 * The exact decimal expansion of a finite |x| ≥ 0 (a double is m·2^e: with e < 0 that is
 * m·5^-e / 10^-e, so -e fraction digits say it exactly). Python's float formatting rounds from
 * this exact value, exact ties to even; JavaScript's toFixed and toExponential round ties up.
 */
function exactDecimal(abs: number): { int: string; frac: string } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, abs);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let e = -1074; // subnormal
  if (biased !== 0) {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  if (e >= 0) return { int: (mant << BigInt(e)).toString(), frac: '' };
  const digits = (mant * 5n ** BigInt(-e)).toString().padStart(-e + 1, '0');
  return { int: digits.slice(0, digits.length + e), frac: digits.slice(digits.length + e) };
}

/** `digits` (a string of decimal digits) rounded to its first `keep` digits, exact ties to even */
function roundDigits(digits: string, keep: number): string {
  const kept = digits.slice(0, keep).padEnd(keep, '0');
  const rest = digits.slice(keep);
  let n = BigInt(kept === '' ? '0' : kept);
  const first = rest[0] ?? '0';
  if (first > '5' || (first === '5' && (/[1-9]/.test(rest.slice(1)) || n % 2n === 1n))) n += 1n;
  return n.toString().padStart(keep, '0');
}

const negative = (x: number): boolean => x < 0 || Object.is(x, -0);

/** Python `'%.Nf' % abs(x)` for a finite x (no sign) */
function fixedDigits(abs: number, precision: number): string {
  const { int, frac } = exactDecimal(abs);
  const r = roundDigits(int + frac.slice(0, precision + 1) + (/[1-9]/.test(frac.slice(precision + 1)) ? '1' : ''), int.length + precision);
  const whole = r.slice(0, r.length - precision) || '0';
  return precision === 0 ? whole : `${whole}.${r.slice(r.length - precision)}`;
}

/** Python `'%.Ne' % abs(x)` for a finite x (no sign): [mantissa digits (N+1), exponent] */
function expDigits(abs: number, precision: number): [string, number] {
  if (abs === 0) return ['0'.repeat(precision + 1), 0];
  const { int, frac } = exactDecimal(abs);
  let sig: string;
  let exp: number;
  if (int !== '0') {
    sig = int + frac;
    exp = int.length - 1;
  } else {
    const zeros = /^0*/.exec(frac)![0].length;
    sig = frac.slice(zeros);
    exp = -zeros - 1;
  }
  let r = roundDigits(sig, precision + 1);
  if (r.length > precision + 1) {
    // 9.99… rounded up to 10.0…
    r = r.slice(0, precision + 1);
    exp++;
  }
  return [r, exp];
}

function expText(digits: string, exp: number, alt: boolean): string {
  const mant = digits.length > 1 || alt ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python `'%.Nf' % x`: exact ties to even, no exponent for large values, `-0.00` kept */
export function pyFixed(x: number, precision: number): string {
  if (!Number.isFinite(x)) return pyFloat(x);
  return (negative(x) ? '-' : '') + fixedDigits(Math.abs(x), precision);
}

/** Python `'%.Ng' % abs(x)` for a finite x (no sign); `alt` is the `#` flag (trailing zeros kept) */
function generalDigits(abs: number, precision: number, alt: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (abs === 0) return alt ? `0.${'0'.repeat(p - 1)}` : '0';
  const [digits, exp] = expDigits(abs, p - 1);
  const strip = (s: string): string => (alt || !s.includes('.') ? s : s.replace(/\.?0+$/, ''));
  if (exp < -4 || exp >= p) {
    const [m, e] = expText(digits, exp, alt).split('e') as [string, string];
    return `${strip(m)}e${e}`;
  }
  const text = fixedDigits(abs, p - 1 - exp);
  return strip(alt && !text.includes('.') ? `${text}.` : text);
}

/** Python `'%g' % x`: 6 significant digits, trailing zeros stripped. */
export function pyG(x: number, precision = 6): string {
  if (!Number.isFinite(x)) return pyFloat(x);
  return (negative(x) ? '-' : '') + generalDigits(Math.abs(x), precision, false);
}

/** What Python raises for `template % value` (graphite-web answers it with a 500). */
export class PyFormatError extends Error {}

const CONVERSION = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)/g;

/**
 * Python `template % value` for one float value, as graphite-web names series with it
 * (`aliasQuery`'s newName): every conversion, flag, width and precision of printf-style
 * formatting; a template that does not take exactly one value is an error, as in Python.
 */
export function pyPercent(template: string, value: number): string {
  let used = 0;
  const out = template.replace(CONVERSION, (_m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
    if (conv === '') throw new PyFormatError(`incomplete format in "${template}"`);
    if (conv === '%' && key === undefined && flags === '' && width === undefined && prec === undefined) return '%';
    if (key !== undefined) throw new PyFormatError(`format requires a mapping: "${template}"`);
    if (width === '*' || prec === '*') throw new PyFormatError(`not enough arguments for format string "${template}"`);
    if (!'diouxXeEfFgGcrsa%'.includes(conv)) throw new PyFormatError(`unsupported format character '${conv}' in "${template}"`);
    if (conv === '%') return '%';
    if (++used > 1) throw new PyFormatError(`not enough arguments for format string "${template}"`);
    return formatOne(conv, flags, width === undefined ? 0 : Number(width), prec === undefined ? undefined : Number(prec || '0'), value);
  });
  if (used === 0) throw new PyFormatError(`not all arguments converted during string formatting: "${template}" has no conversion for the value`);
  return out;
}

function formatOne(conv: string, flags: string, width: number, prec: number | undefined, v: number): string {
  const left = flags.includes('-');
  const pad = (body: string, sign: string, numeric: boolean): string => {
    const len = sign.length + body.length;
    if (len >= width) return sign + body;
    if (left) return (sign + body).padEnd(width);
    if (numeric && flags.includes('0')) return sign + body.padStart(width - sign.length, '0');
    return (sign + body).padStart(width);
  };
  if (conv === 's' || conv === 'r' || conv === 'a') {
    const s = pyFloat(v);
    return pad(prec === undefined ? s : s.slice(0, prec), '', false);
  }
  if ('oxXc'.includes(conv)) throw new PyFormatError(`%${conv} format: an integer is required, not float`);
  const sign = negative(v) && !(Number.isNaN(v)) ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const abs = Math.abs(v);
  if (!Number.isFinite(v)) {
    if ('diu'.includes(conv)) throw new PyFormatError(Number.isNaN(v) ? 'cannot convert float NaN to integer' : 'cannot convert float infinity to integer');
    const word = Number.isNaN(v) ? 'nan' : 'inf';
    return pad('EFG'.includes(conv) ? word.toUpperCase() : word, sign, true);
  }
  const alt = flags.includes('#');
  let body: string;
  switch (conv) {
    case 'd':
    case 'i':
    case 'u': {
      const int = exactDecimal(abs).int;
      body = prec === undefined ? int : int.padStart(prec, '0');
      // -0.5 truncates to the int 0, which has no minus sign
      const zero = int === '0' && sign === '-';
      return pad(body, zero ? (flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '') : sign, true);
    }
    case 'f':
    case 'F':
      body = fixedDigits(abs, prec ?? 6);
      if (alt && !body.includes('.')) body += '.';
      break;
    case 'e':
    case 'E': {
      const [digits, exp] = expDigits(abs, prec ?? 6);
      body = expText(digits, exp, alt);
      if (conv === 'E') body = body.toUpperCase();
      break;
    }
    default: // g, G
      body = generalDigits(abs, prec ?? 6, alt);
      if (conv === 'G') body = body.toUpperCase();
  }
  return pad(body, sign, true);
}
