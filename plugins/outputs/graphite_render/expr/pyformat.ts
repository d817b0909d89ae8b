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

/** Python `'%g' % x`: 6 significant digits, trailing zeros stripped. */
export function pyG(x: number, precision = 6): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const p = precision === 0 ? 1 : precision;
  const [, expStr] = x.toExponential(p - 1).split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= p) {
    const [m, e] = x.toExponential(p - 1).split('e') as [string, string];
    const mm = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    const en = Number(e);
    return `${mm}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, p - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Python `'%d' % x` (truncates toward zero) */
export function pyD(x: number): string {
  if (!Number.isFinite(x)) return pyFloat(x);
  return String(Math.trunc(x));
}

/**
 * Python 3 `round(x, n)`: correctly rounded from the exact binary value, exact ties to even.
 * toFixed already rounds from the exact value; only exact ties (x·10ⁿ = k + ½, which means x has
 * at most n+1 decimals) need the half-even rule, and those are visible in a 100-digit expansion.
 */
export function pyRound(x: number, n = 0): number {
  if (!Number.isFinite(x)) return x;
  if (n < 0) {
    const f = 10 ** -n;
    return pyRound(x / f, 0) * f;
  }
  const abs = Math.abs(x);
  if (abs >= 1e15 || n > 90) return x;
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
