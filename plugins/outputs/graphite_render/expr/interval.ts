/**
 * graphite's time offsets (attime.parseTimeOffset): an optional sign (default +), then one or more
 * `<digits><unit>` terms: `-1d`, `5min`, `1h30min`. Units are matched by prefix: s…, min…, h…,
 * d…, w…, mon… (30 days), y… (365 days). A bare `m` is refused, as in graphite.
 * Returns signed seconds; throws RangeError on anything else.
 */
export function parseInterval(s: string): number {
  if (typeof s !== 'string' || s.length === 0) throw new RangeError('empty interval');
  let i = 0;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    i = 1;
  } else if (!/\d/.test(s[0]!)) {
    throw new RangeError(`Invalid offset: ${s}`);
  }
  if (i >= s.length) throw new RangeError(`Invalid offset: ${s}`);
  let total = 0;
  while (i < s.length) {
    const numStart = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === numStart) throw new RangeError(`Invalid offset: ${s}`);
    const num = Number(s.slice(numStart, i));
    const unitStart = i;
    while (i < s.length && /[A-Za-z]/.test(s[i]!)) i++;
    total += num * unitSeconds(s.slice(unitStart, i));
  }
  return sign * total;
}

function unitSeconds(u: string): number {
  if (u.startsWith('s')) return 1;
  if (u.startsWith('min')) return 60;
  if (u.startsWith('h')) return 3600;
  if (u.startsWith('d')) return 86400;
  if (u.startsWith('w')) return 7 * 86400;
  if (u.startsWith('mon')) return 30 * 86400;
  if (u.startsWith('y')) return 365 * 86400;
  throw new RangeError(`Invalid offset unit '${u}'`);
}

/** parseInterval that reports false instead of throwing */
export function isInterval(s: string): boolean {
  try {
    parseInterval(s);
    return true;
  } catch {
    return false;
  }
}
