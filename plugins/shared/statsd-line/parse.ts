/**
 * The StatsD line parser both StatsD inputs share. It reproduces Etsy statsd 0.9.0's grammar and
 * processing order (protocols.md §3.2): split the line at the first `|#` (DogStatsD tags), split
 * the rest at `:` (key, then one or more samples), convert the tags to Graphite tags, sanitise the
 * key, then validate and dispatch every sample on its own. A bad sample is reported and skipped;
 * the other samples of the line and the other lines of the packet are kept.
 *
 * Where Etsy would crash or hand Graphite something it refuses, we count a bad line instead (see
 * docs/compatibility.md): sample rates that are not a plain positive decimal, non-finite values,
 * and keys that are not valid series names once sanitised (empty, `..`, a tag without `=`).
 */
import { SampleType, isBadName, normalizeSeriesName, type BadNameReason } from '../../../core/index.js';

/** Why a sample was refused; the `dropped_by.<reason>` self-metric. */
export type BadLineReason =
  | 'no_type'
  | 'bad_rate'
  | 'bad_value'
  | BadNameReason;

/** Where the parser puts what it finds. Implemented by the inputs (and by tests and benches). */
export interface StatsdSink {
  sample(key: string, type: SampleType, value: number, rate: number, member?: string): void;
  bad(reason: BadLineReason, line: string): void;
}

export interface StatsdParseOptions {
  /**
   * 'all': Etsy's keyNameSanitize true (the default): the whole key incl. tags is sanitised.
   * 'metric_only': Etsy's keyNameSanitize false as its graphite backend writes it: only the part
   * before the first `;` is sanitised, tags are kept verbatim (still validated).
   */
  readonly keySanitize: 'all' | 'metric_only';
  /**
   * 'etsy': every type other than ms, g and s counts as a counter (so `h` and `d` are counters,
   * as in Etsy statsd). 'dogstatsd': `h` and `d` are timers (DogStatsD's histogram/distribution)
   * and packed values (`k:1:2:3|h`) share the type and rate of the last one.
   */
  readonly typeDialect: 'etsy' | 'dogstatsd';
}

export interface PacketCounts {
  /** non-empty lines (Etsy's metrics_received) */
  lines: number;
  /** bad samples (Etsy's bad_lines_seen: one per refused sample, not per line) */
  bad: number;
  /** samples handed to the sink */
  samples: number;
}

/** Entries per key-cache generation (two are kept): a cardinality bomb costs CPU, not memory. */
const KEY_CACHE_GENERATION = 100_000;
/** Longer raw keys are resolved every time, so the cache stays under ~100 MB whatever is sent. */
const KEY_CACHE_MAX_CHARS = 256;

type KeyResult = string | { readonly bad: BadNameReason };

/**
 * One parser per input instance: it holds a cache from the raw key text (with its tag list) to the
 * sanitised, validated, canonical series name, because keys repeat and sanitising with regexes is
 * the most expensive step of a line.
 */
export class StatsdLineParser {
  private keys = new Map<string, KeyResult>();
  private oldKeys = new Map<string, KeyResult>();
  readonly counts: PacketCounts = { lines: 0, bad: 0, samples: 0 };

  constructor(
    private readonly opts: StatsdParseOptions,
    private readonly sink: StatsdSink,
  ) {}

  /**
   * Parses one packet (a datagram, or the complete lines of a TCP read) and returns how many
   * lines, bad samples and samples it held (also added to `counts`).
   */
  packet(text: string): PacketCounts {
    const out: PacketCounts = { lines: 0, bad: 0, samples: 0 };
    let start = 0;
    const n = text.length;
    while (start <= n) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = n;
      if (end > start) {
        out.lines++;
        this.line(text.slice(start, end), out);
      }
      start = end + 1;
    }
    this.counts.lines += out.lines;
    this.counts.bad += out.bad;
    this.counts.samples += out.samples;
    return out;
  }

  private line(line: string, out: PacketCounts): void {
    const hash = line.indexOf('|#');
    const body = hash >= 0 ? line.slice(0, hash) : line;
    // Etsy splits the whole line on `|#` and keeps only the piece after the first one as tags
    let tags = '';
    if (hash >= 0) {
      const next = line.indexOf('|#', hash + 2);
      tags = next < 0 ? line.slice(hash + 2) : line.slice(hash + 2, next);
    }
    const colon = body.indexOf(':');
    const rawKey = colon >= 0 ? body.slice(0, colon) : body;
    if (colon < 0) {
      // Etsy: no `:` means one sample "1" without a type, which is refused
      this.reject('no_type', line, out);
      return;
    }
    const cacheKey = tags.length > 0 ? `${rawKey}|#${tags}` : rawKey;
    let key = this.keys.get(cacheKey);
    if (key === undefined) {
      key = this.oldKeys.get(cacheKey) ?? resolveKey(rawKey, tags, this.opts.keySanitize);
      if (cacheKey.length <= KEY_CACHE_MAX_CHARS) {
        // two generations: a full cache becomes the old one, so keys in use survive the turnover
        if (this.keys.size >= KEY_CACHE_GENERATION) {
          this.oldKeys = this.keys;
          this.keys = new Map();
        }
        this.keys.set(cacheKey, key);
      }
    }
    let pos = colon + 1;
    const n = body.length;
    if (this.opts.typeDialect === 'dogstatsd' && typeof key === 'string' && this.packed(key, body, pos, line, out)) return;
    while (pos <= n) {
      let end = body.indexOf(':', pos);
      if (end < 0) end = n;
      if (typeof key === 'string') this.sample(key, body, pos, end, line, out);
      else this.reject(key.bad, line, out);
      pos = end + 1;
    }
  }

  /**
   * DogStatsD 1.1 value packing, `key:1:2:3|h|@0.5`: values without their own type share the
   * type and rate of the last one. Returns false (nothing done) when the line is not packed.
   */
  private packed(key: string, body: string, from: number, line: string, out: PacketCounts): boolean {
    const firstColon = body.indexOf(':', from);
    if (firstColon < 0) return false;
    const firstBar = body.indexOf('|', from);
    if (firstBar >= 0 && firstBar < firstColon) return false;
    const lastColon = body.lastIndexOf(':');
    const lastBar = body.indexOf('|', lastColon);
    if (lastBar < 0) return false;
    const suffix = body.slice(lastBar);
    for (const v of body.slice(from, lastBar).split(':')) {
      if (v.includes('|')) return false;
      const sample = v + suffix;
      this.sample(key, sample, 0, sample.length, line, out);
    }
    return true;
  }

  /** One `value|type[|@rate][|ignored…]` sample in body[from, to). */
  private sample(key: string, body: string, from: number, to: number, line: string, out: PacketCounts): void {
    const bar1 = body.indexOf('|', from);
    if (bar1 < 0 || bar1 >= to) {
      this.reject('no_type', line, out);
      return;
    }
    const valueText = body.slice(from, bar1);
    let bar2 = body.indexOf('|', bar1 + 1);
    if (bar2 >= to) bar2 = -1;
    const typeText = body.slice(bar1 + 1, bar2 < 0 ? to : bar2);
    let rate = 1;
    if (bar2 >= 0) {
      let bar3 = body.indexOf('|', bar2 + 1);
      if (bar3 < 0 || bar3 >= to) bar3 = to;
      rate = parseRate(body.slice(bar2 + 1, bar3));
      if (rate !== rate) {
        this.reject('bad_rate', line, out);
        return;
      }
    }
    // Validity uses the type as written, dispatch uses it trimmed (Etsy does the same, so
    // `1|ms\r` is checked as "some other type" and then counted as a timer).
    const value = Number(valueText);
    switch (typeText) {
      case 's':
        break;
      case 'ms':
        if (valueText.length === 0 || !(value >= 0)) return this.reject('bad_value', line, out);
        break;
      default:
        if (valueText.length === 0 || value !== value) return this.reject('bad_value', line, out);
    }
    const type = typeText.trim();
    // A zero rate would make a counter or timer count 1/0 samples (Etsy writes Infinity); gauges
    // and sets ignore the rate, so Etsy keeps those samples and so does this parser.
    if (rate === 0 && type !== 's' && type !== 'g') return this.reject('bad_rate', line, out);
    if (type === 's') {
      out.samples++;
      this.sink.sample(key, SampleType.Set, 1, 1, valueText.length > 0 ? valueText : '0');
      return;
    }
    if (value === Infinity || value === -Infinity) return this.reject('bad_value', line, out);
    out.samples++;
    if (type === 'ms' || (this.opts.typeDialect === 'dogstatsd' && (type === 'h' || type === 'd'))) {
      this.sink.sample(key, SampleType.Timer, value, rate);
    } else if (type === 'g') {
      const c = valueText.charCodeAt(0);
      // a leading sign asks for a delta; the aggregator applies Etsy's rule (only on a non-zero gauge)
      this.sink.sample(key, c === 43 || c === 45 ? SampleType.GaugeDelta : SampleType.Gauge, value, 1);
    } else {
      this.sink.sample(key, SampleType.Counter, value, rate);
    }
  }

  private reject(reason: BadLineReason, line: string, out: PacketCounts): void {
    out.bad++;
    this.sink.bad(reason, line);
  }
}

/**
 * `@<rate>` → the rate, or NaN when refused. Etsy accepts any JS-numeric text that does not start
 * with `-` and then reads the leading run of digits and dots (so `@1e-3` means 1: kept). Texts
 * where that run is missing (`@+0.5`, `@ 1`) crash Etsy's packet handler: refused here. A zero
 * rate (`@0`, `@0.0`) is returned as 0: the caller refuses it for counters and timers only.
 */
export function parseRate(field: string): number {
  if (field.length < 2 || field.charCodeAt(0) !== 64 /* @ */) return NaN;
  const num = field.slice(1);
  if (num.charCodeAt(0) === 45 /* - */ || Number.isNaN(Number(num))) return NaN;
  let end = 0;
  while (end < num.length) {
    const c = num.charCodeAt(end);
    if ((c >= 48 && c <= 57) || c === 46) end++;
    else break;
  }
  if (end === 0) return NaN;
  const rate = Number(num.slice(0, end));
  return rate >= 0 ? rate : NaN;
}

/**
 * The key as Etsy builds it (tags appended as `;k=v` with the first `;`→`_` and first `:`→`=` in
 * each tag), sanitised, then validated and put in canonical tagged form.
 */
export function resolveKey(rawKey: string, tags: string, mode: StatsdParseOptions['keySanitize']): KeyResult {
  let key = rawKey;
  if (tags.length > 0) {
    for (const tag of tags.split(',')) key += `;${tag.replace(';', '_').replace(':', '=')}`;
  }
  if (mode === 'all') key = sanitizeKey(key);
  else {
    const semi = key.indexOf(';');
    key = semi < 0 ? sanitizeKey(key) : sanitizeKey(key.slice(0, semi)) + key.slice(semi);
  }
  const name = normalizeSeriesName(key);
  return isBadName(name) ? { bad: name.bad } : name;
}

const WHITESPACE_RUN = /\s+/g;
const SLASH = /\//g;
const NOT_ALLOWED = /[^a-zA-Z_\-0-9.;=]/g;

/** Etsy's keyNameSanitize: whitespace runs → `_`, `/` → `-`, then drop all but `[A-Za-z0-9_.;=-]`. */
export function sanitizeKey(key: string): string {
  return key.replace(WHITESPACE_RUN, '_').replace(SLASH, '-').replace(NOT_ALLOWED, '');
}
