/**
 * Graphite's `from`/`until` syntax (graphite-web's attime semantics), evaluated in UTC:
 * epoch seconds, `YYYYMMDD`, `now`, `-6h`, `now-1d`, `noon+1d`, `04:00_20231101`, `yesterday`,
 * `mon`, `jan1`, `12/25/23`, with offsets in s/min/h/d/w/mon(=30d)/y(=365d). A bare `m` is not a
 * unit (Grafana rewrites `m` to `min` before it sends).
 *
 * Written for the events endpoint, which needs it without depending on the render plugin.
 * Throws `AtTimeError` with a message safe to return to the client (it never echoes the input).
 */
export class AtTimeError extends Error {}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY = 86400;

/** Returns Unix seconds; `now` is Unix seconds (fractional allowed). */
export function parseAtTime(input: string, now: number): number {
  const s = input.trim().toLowerCase().replace(/[_, ]/g, '');
  if (s.length > 64) throw new AtTimeError('time too long');
  if (/^\d+$/.test(s)) {
    if (!isYyyymmdd(s)) return Number(s);
  }
  let ref = s;
  let offset = '';
  const plus = s.indexOf('+');
  const minus = s.indexOf('-');
  const cut = plus >= 0 ? plus : minus;
  if (cut >= 0) {
    ref = s.slice(0, cut);
    offset = s.slice(cut);
  }
  return parseReference(ref, now) + parseOffset(offset);
}

function isYyyymmdd(s: string): boolean {
  return s.length === 8 && Number(s.slice(0, 4)) > 1900 && Number(s.slice(4, 6)) < 13 && Number(s.slice(6)) < 32;
}

function utc(year: number, month1: number, day: number, hour: number, minute: number): number {
  if (month1 < 1 || month1 > 12 || day < 1 || day > 31) throw new AtTimeError('invalid date');
  const ms = Date.UTC(year, month1 - 1, day, hour, minute);
  const d = new Date(ms);
  // Python's datetime refuses Feb 30; Date.UTC would roll it over silently.
  if (d.getUTCDate() !== day) throw new AtTimeError('invalid date');
  return ms / 1000;
}

function parseReference(refIn: string, now: number): number {
  let ref = refIn;
  if (ref === '' || ref === 'now') return now;
  let hour = 0;
  let minute = 0;

  // HH:MM, optionally followed by am/pm
  const colon = ref.indexOf(':');
  if (colon > 0 && colon < 3) {
    hour = int(ref.slice(0, colon));
    minute = int(ref.slice(colon + 1, colon + 3));
    ref = ref.slice(colon + 3);
    if (ref.startsWith('am')) ref = ref.slice(2);
    else if (ref.startsWith('pm')) {
      hour = (hour + 12) % 24;
      ref = ref.slice(2);
    }
  }
  const am = ref.indexOf('am');
  if (am > 0 && am < 3) {
    hour = int(ref.slice(0, am));
    ref = ref.slice(am + 2);
  }
  const pm = ref.indexOf('pm');
  if (pm > 0 && pm < 3) {
    hour = (int(ref.slice(0, pm)) + 12) % 24;
    ref = ref.slice(pm + 2);
  }
  for (const [word, h] of [['noon', 12], ['midnight', 0], ['teatime', 16]] as const) {
    if (ref.startsWith(word)) {
      hour = h;
      minute = 0;
      ref = ref.slice(word.length);
      break;
    }
  }
  if (hour > 23 || minute > 59) throw new AtTimeError('invalid time of day');

  const today = new Date(now * 1000);
  const y = today.getUTCFullYear();
  const mo = today.getUTCMonth() + 1;
  const d = today.getUTCDate();
  let t = utc(y, mo, d, hour, minute);

  if (ref === 'yesterday') return t - DAY;
  if (ref === 'today' || ref === '') return t;
  if (ref === 'tomorrow') return t + DAY;
  if (ref.split('/').length === 3) {
    const [m, dd, yy] = ref.split('/').map(int) as [number, number, number];
    let year = yy;
    if (year < 1900) year += 1900;
    if (year < 1970) year += 100;
    return utc(year, m, dd, hour, minute);
  }
  if (ref.length === 8 && /^\d+$/.test(ref)) {
    return utc(int(ref.slice(0, 4)), int(ref.slice(4, 6)), int(ref.slice(6, 8)), hour, minute);
  }
  const monthIndex = MONTHS.indexOf(ref.slice(0, 3));
  if (monthIndex >= 0) {
    const day = /(\d{1,2})$/.exec(ref);
    if (!day) throw new AtTimeError('day of month required after month name');
    return utc(y, monthIndex + 1, int(day[1]!), hour, minute);
  }
  const weekday = WEEKDAYS.indexOf(ref.slice(0, 3));
  if (weekday >= 0) {
    // the most recent such day, today included
    const back = (today.getUTCDay() - weekday + 7) % 7;
    t -= back * DAY;
    return t;
  }
  throw new AtTimeError('unknown day reference');
}

function parseOffset(offsetIn: string): number {
  if (offsetIn === '') return 0;
  let offset = offsetIn;
  let sign = 1;
  if (offset[0] === '+' || offset[0] === '-') {
    sign = offset[0] === '-' ? -1 : 1;
    offset = offset.slice(1);
  }
  let total = 0;
  const re = /^(\d+)([a-z]+)/;
  while (offset !== '') {
    const m = re.exec(offset);
    if (!m) throw new AtTimeError('invalid time offset');
    total += int(m[1]!) * unitSeconds(m[2]!);
    offset = offset.slice(m[0].length);
  }
  return sign * total;
}

function unitSeconds(u: string): number {
  // order matters: `min` and `mon` before the one-letter prefixes they share
  if (u.startsWith('s')) return 1;
  if (u.startsWith('min')) return 60;
  if (u.startsWith('h')) return 3600;
  if (u.startsWith('d')) return DAY;
  if (u.startsWith('w')) return 7 * DAY;
  if (u.startsWith('mon')) return 30 * DAY;
  if (u.startsWith('y')) return 365 * DAY;
  throw new AtTimeError('invalid time offset unit (use s, min, h, d, w, mon or y)');
}

function int(s: string): number {
  if (!/^\d+$/.test(s)) throw new AtTimeError('invalid number in time');
  return Number(s);
}
