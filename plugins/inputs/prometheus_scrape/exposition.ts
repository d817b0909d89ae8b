/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), the body JupyterHub
 * serves at /hub/metrics. Strict like Prometheus itself: one malformed line fails the whole body,
 * because a half-read scrape would show as a drop in every cumulative series.
 *
 * Grammar per line: `# HELP name text`, `# TYPE name type`, other `# ...` comments, blank lines, or
 *   name[{label="value",...[,]}] value [timestamp_ms]
 * Label values escape `\\`, `\"` and `\n`. Values are Go floats (incl. NaN, +Inf, -Inf).
 */

export interface ExpositionSample {
  readonly name: string;
  /** in exposition order; names unique within one sample */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
  /** milliseconds since the epoch, when the exporter gave one */
  readonly timestampMs: number | undefined;
}

export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[Ii]nf(?:inity)?|NaN)$/;

/** Parses a whole body or throws ExpositionError. `truncated` bodies (no final newline) are refused. */
export function parseExposition(body: string): ExpositionSample[] {
  if (body.length > 0 && !body.endsWith('\n')) throw new ExpositionError(body.split('\n').length, 'body does not end with a newline (truncated?)');
  const out: ExpositionSample[] = [];
  const typed = new Set<string>();
  let lineNo = 0;
  let start = 0;
  while (start < body.length) {
    const nl = body.indexOf('\n', start);
    const line = body.slice(start, nl);
    start = nl + 1;
    lineNo++;
    if (line.length === 0 || /^[ \t]*$/.test(line)) continue;
    if (line.charCodeAt(0) === 35 /* # */) {
      parseComment(line, lineNo, typed);
      continue;
    }
    out.push(parseSample(line, lineNo));
  }
  return out;
}

function parseComment(line: string, lineNo: number, typed: Set<string>): void {
  const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (m === null) return; // a free comment
  const name = m[2]!;
  if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) throw new ExpositionError(lineNo, `invalid metric name "${clip(name)}" in ${m[1]}`);
  if (m[1] === 'TYPE') {
    const type = (m[3] ?? '').trim();
    if (!TYPES.has(type)) throw new ExpositionError(lineNo, `unknown metric type "${clip(type)}"`);
    if (typed.has(name)) throw new ExpositionError(lineNo, `second TYPE line for ${name}`);
    typed.add(name);
  }
}

function parseSample(line: string, lineNo: number): ExpositionSample {
  const nm = METRIC_NAME.exec(line);
  if (nm === null) throw new ExpositionError(lineNo, `expected a metric name at "${clip(line)}"`);
  const name = nm[0];
  let i = name.length;
  const labels: Array<[string, string]> = [];
  const j = skipBlanks(line, i);
  if (line[j] === '{') i = parseLabels(line, j + 1, lineNo, labels);
  // value and optional timestamp: separated from what precedes by blanks
  const rest = line.slice(i);
  const parts = rest.trim().split(/[ \t]+/);
  if (rest.length > 0 && rest[0] !== ' ' && rest[0] !== '\t') throw new ExpositionError(lineNo, `expected a blank after "${clip(line.slice(0, i))}"`);
  if (parts.length === 0 || parts[0] === '' || parts.length > 2) throw new ExpositionError(lineNo, `expected "value [timestamp]" after the series in "${clip(line)}"`);
  const v = parts[0]!;
  if (!FLOAT.test(v)) throw new ExpositionError(lineNo, `invalid value "${clip(v)}"`);
  const value = /inf/i.test(v) ? (v[0] === '-' ? -Infinity : Infinity) : Number(v);
  let timestampMs: number | undefined;
  if (parts.length === 2) {
    const ts = parts[1]!;
    if (!/^-?\d+$/.test(ts)) throw new ExpositionError(lineNo, `invalid timestamp "${clip(ts)}"`);
    timestampMs = Number(ts);
  }
  return { name, labels, value, timestampMs };
}

/** Parses `name="value",...}` from position i; returns the index after `}`. */
function parseLabels(line: string, i: number, lineNo: number, labels: Array<[string, string]>): number {
  const seen = new Set<string>();
  for (;;) {
    i = skipBlanks(line, i);
    if (line[i] === '}') return i + 1;
    LABEL_NAME.lastIndex = i;
    const ln = LABEL_NAME.exec(line);
    if (ln === null) throw new ExpositionError(lineNo, `expected a label name at column ${i + 1}`);
    const key = ln[0];
    if (seen.has(key)) throw new ExpositionError(lineNo, `duplicate label "${key}"`);
    seen.add(key);
    i = skipBlanks(line, i + key.length);
    if (line[i] !== '=') throw new ExpositionError(lineNo, `expected = after label ${key}`);
    i = skipBlanks(line, i + 1);
    if (line[i] !== '"') throw new ExpositionError(lineNo, `expected a quoted value for label ${key}`);
    i++;
    // Fast path: no escape before the closing quote (nearly every value).
    const q = line.indexOf('"', i);
    const bs = line.indexOf('\\', i);
    if (q >= 0 && (bs < 0 || bs > q)) {
      labels.push([key, line.slice(i, q)]);
      i = skipBlanks(line, q + 1);
      if (line[i] === ',') {
        i++;
        continue;
      }
      if (line[i] === '}') return i + 1;
      throw new ExpositionError(lineNo, `expected , or } after label ${key}`);
    }
    let value = '';
    for (;;) {
      if (i >= line.length) throw new ExpositionError(lineNo, `unterminated value of label ${key}`);
      const c = line[i]!;
      if (c === '"') break;
      if (c === '\\') {
        const e = line[i + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new ExpositionError(lineNo, `invalid escape \\${e ?? ''} in label ${key}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels.push([key, value]);
    i = skipBlanks(line, i + 1);
    if (line[i] === ',') {
      i++;
      continue;
    }
    if (line[i] === '}') return i + 1;
    throw new ExpositionError(lineNo, `expected , or } after label ${key}`);
  }
}

function skipBlanks(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\t') i++;
  return i;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
