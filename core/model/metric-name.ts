/**
 * Series names: validation (nothing may escape a data directory or break a store) and the
 * canonical form of Graphite tagged names (carbon/graphite-web TaggedSeries rules: tags sorted by
 * key in code-point order, last duplicate wins, `name` tag taken from the metric part).
 */

/** Why a name was refused; also the suffix of the `dropped.<reason>` self-metric. */
export type BadNameReason =
  | 'name_empty'
  | 'name_too_long'
  | 'node_empty'
  | 'node_too_long'
  | 'name_bad_char'
  | 'tag_invalid';

export interface BadName {
  readonly bad: BadNameReason;
  readonly detail: string;
}

/** Longest accepted name, in UTF-16 code units (about 5x a typical name; PATH_MAX is 4096). */
export const MAX_NAME_LENGTH = 1024;
/** Longest accepted path node in UTF-8 bytes: one node becomes one file or directory name. */
export const MAX_NODE_BYTES = 255;

export function isBadName(x: string | BadName): x is BadName {
  return typeof x !== 'string';
}

const DOT = 46, SEMI = 59, SLASH = 47, BACKSLASH = 92, DEL = 127, SPACE = 32;

/**
 * Checks the dotted metric part of a name (no tags). Returns undefined when it is fine.
 * Refused: empty nodes (leading/trailing/double dots, so no `..` node can exist), `/` and `\`
 * (a node would become two path components), control characters incl. NUL, whitespace, and
 * nodes longer than a file name may be.
 */
export function checkMetricPath(path: string): BadName | undefined {
  const n = path.length;
  if (n === 0) return { bad: 'name_empty', detail: 'empty name' };
  if (n > MAX_NAME_LENGTH) return { bad: 'name_too_long', detail: `name longer than ${MAX_NAME_LENGTH} characters` };
  let nodeStart = 0;
  let ascii = true;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : DOT;
    if (c === DOT) {
      const len = i - nodeStart;
      if (len === 0) return { bad: 'node_empty', detail: 'empty path node (leading, trailing or double dot)' };
      if (len > MAX_NODE_BYTES / 3 && (ascii ? len : Buffer.byteLength(path.slice(nodeStart, i))) > MAX_NODE_BYTES) {
        return { bad: 'node_too_long', detail: `path node longer than ${MAX_NODE_BYTES} bytes` };
      }
      nodeStart = i + 1;
      ascii = true;
    } else if (c <= SPACE || c === DEL || c === SLASH || c === BACKSLASH) {
      return { bad: 'name_bad_char', detail: `character 0x${c.toString(16).padStart(2, '0')} not allowed in a name` };
    } else if (c > 127) {
      ascii = false;
      // U+0085, U+00A0 and the U+2000 block are whitespace or separators in Python's split()
      if (c === 0x85 || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x3000) {
        return { bad: 'name_bad_char', detail: `whitespace character U+${c.toString(16).toUpperCase()} not allowed in a name` };
      }
    }
  }
  return undefined;
}

/**
 * Validates a raw series name and returns its canonical form, or why it is refused.
 * Untagged names come back unchanged (the common case allocates nothing).
 */
export function normalizeSeriesName(raw: string): string | BadName {
  // carbon tries this form first, whatever else the name holds
  if (raw.charCodeAt(raw.length - 1) === 125 /* } */ && raw.endsWith('"}') && raw.includes('{')) return withinLength(parseOpenMetricsStyle(raw));
  const semi = raw.indexOf(';');
  if (semi < 0) {
    // carbon stores every name through TaggedSeries, whose name tag drops leading '~'
    if (raw.charCodeAt(0) === 126 /* ~ */) raw = stripTildes(raw);
    return checkMetricPath(raw) ?? raw;
  }
  return withinLength(normalizeTagged(raw.slice(0, semi), raw.slice(semi + 1).split(';')));
}

/**
 * A tagged name's tags count too: the metric part alone was held to MAX_NAME_LENGTH, and a tag of
 * 70,000 bytes reached the store's WAL, whose name field holds 65,535 (the record broke).
 */
function withinLength(n: string | BadName): string | BadName {
  if (typeof n === 'string' && n.length > MAX_NAME_LENGTH) return { bad: 'name_too_long', detail: `name with its tags longer than ${MAX_NAME_LENGTH} characters` };
  return n;
}

function normalizeTagged(metric: string, segments: string[]): string | BadName {
  const bad = checkMetricPath(stripTildes(metric));
  if (bad) return bad;
  const tags = new Map<string, string>();
  for (const seg of segments) {
    const eq = seg.indexOf('=');
    if (eq <= 0) return { bad: 'tag_invalid', detail: `tag segment "${clip(seg)}" must be key=value` };
    const key = seg.slice(0, eq);
    const value = seg.slice(eq + 1);
    const r = checkTag(key, value);
    if (r) return r;
    tags.set(key, value);
  }
  return formatTagged(metric, tags);
}

function checkTag(key: string, value: string): BadName | undefined {
  if (key.length === 0 || /[;!^=\s\x00-\x1f\x7f]/.test(key)) {
    return { bad: 'tag_invalid', detail: `tag "${clip(key)}" is empty or contains one of ; ! ^ =, whitespace or a control character` };
  }
  if (value.length === 0 || value.startsWith('~') || /[;\s\x00-\x1f\x7f]/.test(value)) {
    return { bad: 'tag_invalid', detail: `value of tag "${clip(key)}" is empty, starts with ~ or contains ; or whitespace` };
  }
  return undefined;
}

/** name + tags sorted by key (code-point order); the `name` tag always comes from the metric part. */
/** carbon's `name.lstrip('~')` (sanitize_name_as_tag_value) */
function stripTildes(name: string): string {
  let i = 0;
  while (name.charCodeAt(i) === 126 /* ~ */) i++;
  return i === 0 ? name : name.slice(i);
}

export function formatTagged(metric: string, tags: Map<string, string>): string {
  const name = stripTildes(metric);
  tags.delete('name');
  if (tags.size === 0) return name;
  // carbon sorts the `;key=value` strings, not the keys: `;dc2=2` comes before `;dc=1`
  const segments: string[] = [];
  for (const [k, v] of tags) segments.push(`;${k}=${v}`);
  return name + segments.sort(codePointCompare).join('');
}

/**
 * `metric{tag="value",other="x"}` as carbon's TaggedSeries.parse_openmetrics reads it: one `{`,
 * a tag is everything up to `=` (not trimmed), a value is not empty and may escape only `"` and
 * `\`, and carbon's separator pattern `(:?,|$)` also takes `:,`.
 */
function parseOpenMetricsStyle(raw: string): string | BadName {
  const brace = raw.indexOf('{');
  const body = raw.slice(brace + 1, -1);
  if (brace <= 0 || body.includes('{')) return { bad: 'tag_invalid', detail: 'malformed {tag="value"} list' };
  const metric = raw.slice(0, brace);
  // carbon would take `m;k=v{a="1"}` as the series `m;k=v;a=1`, a name that is not canonical
  // (its tags unsorted): refused rather than stored under a name no later write would match
  if (metric.includes(';')) return { bad: 'tag_invalid', detail: 'a {tag="value"} list after ;tag=value pairs' };
  const bad = checkMetricPath(metric);
  if (bad) return bad;
  const tags = new Map<string, string>();
  const re = /([^=]+)="((?:\\["\\]|[^"\\])+)"(:?,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) return { bad: 'tag_invalid', detail: 'malformed {tag="value"} list' };
    const key = m[1]!;
    const value = m[2]!.replace(/\\(["\\])/g, '$1');
    const r = checkTag(key, value);
    if (r) return r;
    tags.set(key, value);
    pos = re.lastIndex;
  }
  return formatTagged(metric, tags);
}

/** Splits a canonical tagged name into its metric part and tags (empty map for plain names). */
export function parseTags(name: string): { metric: string; tags: Map<string, string> } {
  const parts = name.split(';');
  const tags = new Map<string, string>();
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    const eq = seg.indexOf('=');
    if (eq > 0) tags.set(seg.slice(0, eq), seg.slice(eq + 1));
  }
  return { metric: parts[0]!, tags };
}

export function isTagged(name: string): boolean {
  return name.indexOf(';') >= 0;
}

/**
 * Python's string order (by code point). JavaScript's `<` compares UTF-16 units, which puts a
 * character beyond U+FFFF (a surrogate pair) before U+E000-U+FFFF; Python puts it after.
 */
export function codePointCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate && !ySurrogate && y >= 0xe000) return 1;
    if (ySurrogate && !xSurrogate && x >= 0xe000) return -1;
    return x - y;
  }
  return a.length - b.length;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
