/**
 * graphite-web's "at-style" time grammar for `from`, `until` and `now` (render/attime.py in 1.1.8),
 * re-implemented from its observable behaviour, quirks included, because dashboards depend on them:
 *   - input is lower-cased and `_`, `,` and spaces are removed before anything else;
 *   - all digits is epoch seconds, except 8 digits that look like a date (YYYYMMDD);
 *   - `ref+offset` / `ref-offset` split at the first `+`, else the first `-`;
 *   - `12:00pm` is midnight and `12am` is noon (pm adds 12 modulo 24, am adds nothing);
 *   - offset units are matched by prefix, `m` alone is invalid (`min` and `mon` are required);
 *   - all offset terms take the first sign (`-1h30min`), a second sign is an error.
 * Wall-clock work (time of day, dates, weekdays) happens in the request's time zone; offsets are then
 * added in absolute seconds, as pytz's normalize() after adding a timedelta does.
 */

export class AtTimeError extends Error {}

export interface AtTimeOptions {
  /** IANA zone name; undefined or unknown means UTC (graphite-web's default TIME_ZONE) */
  readonly tz?: string;
  /** Unix seconds (may be fractional) that relative references are taken from */
  readonly now: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY = 86400;

/** Parses one at-time string; returns Unix seconds (fractional when derived from a fractional `now`). */
export function parseAtTime(input: string, opts: AtTimeOptions): number {
  const zone = resolveZone(opts.tz);
  const s = input.trim().toLowerCase().replace(/[_, ]/g, '');
  if (isDigits(s)) {
    const dateLike = s.length === 8 && +s.slice(0, 4) > 1900 && +s.slice(4, 6) < 13 && +s.slice(6) < 32;
    if (!dateLike) return Number(s);
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
  return parseReference(ref, zone, opts.now) + parseOffset(offset);
}

/** The zone to use: the given one when the runtime knows it, otherwise UTC (as graphite-web ignores unknown tz). */
export function resolveZone(tz: string | undefined): string {
  if (!tz) return 'UTC';
  const known = RESOLVED_ZONES.get(tz);
  if (known !== undefined) return known;
  let zone = 'UTC';
  try {
    zone = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    zone = 'UTC';
  }
  // a pure memo (building an Intl formatter costs ~1.5 ms a request); bounded against junk tz values
  if (RESOLVED_ZONES.size >= 256) RESOLVED_ZONES.clear();
  RESOLVED_ZONES.set(tz, zone);
  return zone;
}

const RESOLVED_ZONES = new Map<string, string>();

function parseReference(rawRef: string, zone: string, now: number): number {
  if (rawRef === '' || rawRef === 'now') return now;
  let ref = rawRef;
  let hour = 0;
  let minute = 0;

  // time of day `H:MM` or `HH:MM`, optionally followed by am/pm
  let i = ref.indexOf(':');
  if (i > 0 && i < 3) {
    hour = pyInt(ref.slice(0, i));
    minute = pyInt(ref.slice(i + 1, i + 3));
    ref = ref.slice(i + 3);
    if (ref.startsWith('am')) ref = ref.slice(2);
    else if (ref.startsWith('pm')) {
      hour = (hour + 12) % 24;
      ref = ref.slice(2);
    }
  }
  // `Xam` / `XXam`: the hour as written (so 12am is noon)
  i = ref.indexOf('am');
  if (i > 0 && i < 3) {
    hour = pyInt(ref.slice(0, i));
    ref = ref.slice(i + 2);
  }
  i = ref.indexOf('pm');
  if (i > 0 && i < 3) {
    hour = (pyInt(ref.slice(0, i)) + 12) % 24;
    ref = ref.slice(i + 2);
  }
  if (ref.startsWith('noon')) {
    [hour, minute, ref] = [12, 0, ref.slice(4)];
  } else if (ref.startsWith('midnight')) {
    [hour, minute, ref] = [0, 0, ref.slice(8)];
  } else if (ref.startsWith('teatime')) {
    [hour, minute, ref] = [16, 0, ref.slice(7)];
  }
  if (hour > 23 || minute > 59) throw new AtTimeError('hour must be in 0..23 and minute in 0..59');

  // wall clock of "now" in the zone, as a naive UTC-based millisecond value
  const nowWall = toWall(now, zone);
  const today = new Date(nowWall * 1000);
  let wall = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), hour, minute) / 1000;

  if (ref === 'yesterday' || ref === 'today' || ref === 'tomorrow') {
    if (ref === 'yesterday') wall -= DAY;
    else if (ref === 'tomorrow') wall += DAY;
  } else if (count(ref, '/') === 2) {
    const [m, d, yRaw] = ref.split('/').map(pyInt) as [number, number, number];
    let y = yRaw;
    if (y < 1900) y += 1900;
    if (y < 1970) y += 100;
    wall = makeDate(y, m, d, hour, minute);
  } else if (ref.length === 8 && isDigits(ref)) {
    wall = makeDate(+ref.slice(0, 4), +ref.slice(4, 6), +ref.slice(6, 8), hour, minute);
  } else if (MONTHS.includes(ref.slice(0, 3))) {
    let d: number;
    if (isDigits(ref.slice(-2))) d = +ref.slice(-2);
    else if (isDigits(ref.slice(-1))) d = +ref.slice(-1);
    else throw new AtTimeError('Day of month required after month name');
    wall = makeDate(today.getUTCFullYear(), MONTHS.indexOf(ref.slice(0, 3)) + 1, d, hour, minute);
  } else if (WEEKDAYS.includes(ref.slice(0, 3))) {
    const todayIdx = new Date(wall * 1000).getUTCDay();
    let back = todayIdx - WEEKDAYS.indexOf(ref.slice(0, 3));
    if (back < 0) back += 7;
    wall -= back * DAY;
  } else if (ref) {
    throw new AtTimeError(`Unknown day reference: ${rawRef}`);
  }
  return fromWall(wall, zone);
}

/** `[+-]<int><unit>...`: every term takes the leading sign; units by prefix, bare `m` invalid. */
export function parseOffset(raw: string): number {
  if (!raw) return 0;
  let offset = raw;
  let sign = 1;
  if (!isDigits(offset[0]!)) {
    if (offset[0] === '+') sign = 1;
    else if (offset[0] === '-') sign = -1;
    else throw new AtTimeError(`Invalid offset: ${raw}`);
    offset = offset.slice(1);
  }
  let total = 0;
  while (offset) {
    const num = /^\d*/.exec(offset)![0];
    if (!num) throw new AtTimeError(`invalid offset ${raw}: a number is required before each unit`);
    offset = offset.slice(num.length);
    const unit = /^[a-z]*/.exec(offset)![0];
    offset = offset.slice(unit.length);
    total += sign * Number(num) * unitSeconds(unit);
  }
  return total;
}

function unitSeconds(u: string): number {
  if (u.startsWith('s')) return 1;
  if (u.startsWith('min')) return 60;
  if (u.startsWith('h')) return 3600;
  if (u.startsWith('d')) return DAY;
  if (u.startsWith('w')) return 7 * DAY;
  if (u.startsWith('mon')) return 30 * DAY;
  if (u.startsWith('y')) return 365 * DAY;
  throw new AtTimeError(`Invalid offset unit '${u}'`);
}

function isDigits(s: string): boolean {
  return s.length > 0 && /^[0-9]+$/.test(s);
}

function pyInt(s: string): number {
  if (!isDigits(s)) throw new AtTimeError(`invalid number ${JSON.stringify(s)} in time reference`);
  return Number(s);
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** A checked calendar date at hour:minute, as wall-clock seconds (Python's datetime() raises on bad dates). */
function makeDate(y: number, m: number, d: number, hour: number, minute: number): number {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) throw new AtTimeError('date out of range');
  const ms = Date.UTC(y, m - 1, d, hour, minute);
  const back = new Date(ms);
  // Date.UTC maps years 0..99 to 19xx: fix the year explicitly
  if (y < 100) back.setUTCFullYear(y);
  if (back.getUTCDate() !== d) throw new AtTimeError('day is out of range for month');
  return back.getTime() / 1000;
}

// Formatters are immutable and costly to build; sharing them across instances holds no request state.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** UTC offset of `zone` at an instant, in seconds. */
export function zoneOffset(epoch: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const whole = Math.floor(epoch);
  const parts = formatter(zone).formatToParts(new Date(whole * 1000));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  let year = get('year');
  if (parts.find((p) => p.type === 'era')?.value === 'BC') year = 1 - year;
  const d = new Date(Date.UTC(2000, get('month') - 1, get('day'), get('hour'), get('minute'), get('second')));
  d.setUTCFullYear(year);
  return d.getTime() / 1000 - whole;
}

/** epoch → wall-clock seconds in the zone (a naive datetime expressed as if it were UTC). */
export function toWall(epoch: number, zone: string): number {
  return epoch + zoneOffset(epoch, zone);
}

/**
 * wall-clock → epoch, like pytz's localize(is_dst=False): an ambiguous time (autumn overlap) takes the
 * standard-time reading, a time in the spring gap is read with the standard offset too.
 */
export function fromWall(wall: number, zone: string): number {
  if (zone === 'UTC') return wall;
  const candidates = new Set([zoneOffset(wall - 86400, zone), zoneOffset(wall + 86400, zone), zoneOffset(wall, zone)]);
  const valid = [...candidates].filter((o) => zoneOffset(wall - o, zone) === o).sort((a, b) => a - b);
  const chosen = valid.length > 0 ? valid[0]! : Math.min(...candidates);
  return wall - chosen;
}
