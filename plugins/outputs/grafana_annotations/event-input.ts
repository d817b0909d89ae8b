/**
 * Validation of what producers send to POST /events/, as graphite-web accepts it, but strict
 * where graphite-web would store garbage or answer 500: every rejection carries a message that
 * says what was expected, and never echoes the input back.
 */

/** django-tagging's limit on one tag's length */
export const MAX_TAG_LENGTH = 50;
/** graphite-web's `what` column is a CharField(max_length=255) */
export const MAX_WHAT_LENGTH = 255;
export const MAX_TAGS = 64;
/** later than this is a timestamp in milliseconds sent by mistake (year 5138) */
const MAX_WHEN = 1e11;

const KNOWN_FIELDS = new Set(['what', 'tags', 'data', 'when']);

export interface NewEvent {
  what: string;
  tags: string[];
  data: string;
  when: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ParseEventOptions {
  /** Unix seconds used when `when` is absent */
  now: number;
  unknownFields: 'reject' | 'ignore';
}

export function parseEventBody(body: string, opts: ParseEventOptions): Parsed<NewEvent> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return fail('body must be a JSON object: {"what": "...", "tags": [...], "data": "...", "when": <epoch seconds>}');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('body must be a JSON object');
  const obj = raw as Record<string, unknown>;

  if (opts.unknownFields === 'reject') {
    const unknown = Object.keys(obj).filter((k) => !KNOWN_FIELDS.has(k));
    if (unknown.length > 0) {
      // field names are listed only when they are plain identifiers, so nothing odd is reflected
      const shown = unknown.every((k) => /^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(k)) && unknown.length <= 5 ? `: ${unknown.join(', ')}` : '';
      return fail(`unknown fields${shown} (accepted: what, tags, data, when)`);
    }
  }

  const what = obj['what'];
  if (typeof what !== 'string' || what.trim() === '') return fail('"what" is required: a non-empty string');
  if (what.length > MAX_WHAT_LENGTH) return fail(`"what" must be at most ${MAX_WHAT_LENGTH} characters`);

  const data = obj['data'] ?? '';
  if (typeof data !== 'string') return fail('"data" must be a string');

  const when = parseWhen(obj['when'], opts.now);
  if (!when.ok) return when;

  const tags = parseTags(obj['tags'] ?? null);
  if (!tags.ok) return tags;

  return { ok: true, value: { what, data, when: when.value, tags: tags.value } };
}

function parseWhen(v: unknown, now: number): Parsed<number> {
  if (v === undefined || v === null) return { ok: true, value: now };
  // graphite-web takes a JSON number; a numeric string is accepted too since shell scripts send them
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0 || n >= MAX_WHEN) return fail('"when" must be Unix time in seconds (a number)');
  return { ok: true, value: n };
}

/**
 * Tags as graphite-web accepts them: an array of strings or one string. Strings (and each array
 * element, since graphite-web joins an array with spaces before django-tagging parses it) are
 * split on commas and whitespace, so a stored tag never holds either: django-tagging would keep
 * "a b" from "a b,c" as one tag, but graphite-web then answers it split on whitespace anyway.
 * Duplicates are dropped, first occurrence kept.
 */
export function parseTags(v: unknown): Parsed<string[]> {
  if (v === null || v === undefined) return { ok: true, value: [] };
  let parts: string[];
  if (typeof v === 'string') parts = splitTagString(v);
  else if (Array.isArray(v)) {
    if (!v.every((t) => typeof t === 'string')) return fail('"tags" must be an array of strings or a space-separated string');
    parts = (v as string[]).flatMap(splitTagString);
  } else return fail('"tags" must be an array or space-separated string');
  const tags = [...new Set(parts)];
  if (tags.some((t) => t.length > MAX_TAG_LENGTH)) return fail(`each tag must be at most ${MAX_TAG_LENGTH} characters`);
  if (tags.length > MAX_TAGS) return fail(`at most ${MAX_TAGS} tags per event`);
  return { ok: true, value: tags };
}

/** Splits one tag string on commas and whitespace; empty pieces dropped. */
export function splitTagString(s: string): string[] {
  return s.split(/[\s,]+/).filter((p) => p !== '');
}

/**
 * The `tags` query parameter of GET /events/get_data. graphite-web splits it on spaces; Grafana
 * sends it space-joined (the backend encodes spaces as `+`). Commas also separate here, since a
 * stored tag can never contain one.
 */
export function parseQueryTags(v: string): string[] {
  return [...new Set(splitTagString(v))];
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
