/**
 * The /render output formats, written as graphite-web 1.1.8 writes them (render/views.py):
 * json `[{"target", "tags", "datapoints": [[value, ts], ...]}]`, csv `name,YYYY-MM-DD HH:MM:SS,value`,
 * raw `name,start,end,step|v1,v2,...` with Python reprs, and pickle (a list of series dicts, the shape
 * graphite-web's cluster RemoteReader reads from `/render?local=1&format=pickle`).
 */
import { pointsForJson } from './consolidate.js';
import { encodePickle, PickleFloat, valuesForPickle, type PickleValue } from './pickle.js';
import { zoneOffset } from '../../shared/attime/attime.js';
import { pyFloat } from './expr/pyformat.js';
import { safeStringify } from './respond.js';

/** What a format needs from a series (the evaluator's TimeSeries satisfies it). */
export interface RenderSeries {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly values: Float64Array;
  readonly tags: Readonly<Record<string, string>>;
  readonly pathExpression: string;
  readonly consolidationFunc: string;
  readonly xFilesFactor: number;
}

export interface JsonOptions {
  readonly maxDataPoints?: number;
  readonly noNullPoints: boolean;
  readonly pretty: boolean;
  /** how ±Infinity is written: graphite-web's `1e9999` (the default) or null (for Go clients) */
  readonly infinity: '1e9999' | 'null';
}

function num(v: number, infinity: JsonOptions['infinity']): string {
  if (Number.isNaN(v)) return 'null';
  if (v === Infinity) return infinity === 'null' ? 'null' : '1e9999';
  if (v === -Infinity) return infinity === 'null' ? 'null' : '-1e9999';
  return String(v);
}

/** Built by hand: at 10^6 points, JSON.stringify of [value, ts] pairs costs an allocation per point. */
export function renderJson(series: readonly RenderSeries[], o: JsonOptions): string {
  return [...renderJsonPieces(series, o)()].join('');
}

/** Pieces of a streamed answer are about this long: a few socket writes' worth. */
const PIECE_CHARS = 64 * 1024;

/**
 * The JSON answer in pieces of ~64 KiB, built as they are read: a large answer (10,000 series of
 * 600 points is ~130 MB) is sent while it is built instead of being held whole two or three times
 * (parts, the joined string, its bytes), and the event loop runs between pieces. Consolidation
 * happens here, eagerly, so that its errors come before the first byte is sent.
 */
export function renderJsonPieces(series: readonly RenderSeries[], o: JsonOptions): () => Generator<string> {
  // graphite-web writes the series only `if any(data)`: when none has a single slot, the answer is []
  if (!series.some((s) => s.values.length > 0)) {
    return function* () {
      yield '[]';
    };
  }
  const points = pointsForJson(series, o.maxDataPoints);
  const nl = o.pretty ? '\n' : '';
  return function* () {
    let piece = '[';
    let first = true;
    for (let s = 0; s < series.length; s++) {
      const { values, times } = points[s]!;
      const dp: string[] = [];
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (o.noNullPoints && Number.isNaN(v)) continue;
        dp.push(`[${num(v, o.infinity)},${times[i]}]`);
      }
      if (o.noNullPoints && dp.length === 0) continue;
      const x = series[s]!;
      piece += `${first ? '' : `,${nl}`}{"target":${safeStringify(x.name)},"tags":${safeStringify(x.tags)},"datapoints":[${dp.join(',' + nl)}]}`;
      first = false;
      if (piece.length >= PIECE_CHARS) {
        yield piece;
        piece = '';
      }
    }
    yield `${piece}]`;
  };
}

/** Python's csv module quoting (excel dialect): quote when the field has a comma, quote, CR or LF. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * `YYYY-MM-DD HH:MM:SS` on the zone's wall clock. The zone's offset is looked up once per quarter
 * hour of time (zone transitions fall on quarter hours): per row it made a csv of 876,000 points in
 * Europe/Berlin take 7 s.
 */
class WallClock {
  private bucket = NaN;
  private offset = 0;
  constructor(private readonly zone: string) {}

  format(epoch: number): string {
    const b = Math.floor(epoch / 900);
    if (b !== this.bucket) {
      this.bucket = b;
      this.offset = zoneOffset(b * 900, this.zone);
    }
    const d = new Date((epoch + this.offset) * 1000);
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  }
}

/** rows per piece of a csv answer: a large one is streamed piece by piece, never one string */
const CSV_ROWS_PER_PIECE = 4096;

/** graphite-web's csv, in pieces (17.5 million points in one string ran out of heap). */
export function* renderCsvPieces(series: readonly RenderSeries[], zone: string): Generator<string> {
  const clock = new WallClock(zone);
  let out = '';
  let rows = 0;
  for (const s of series) {
    const name = csvField(s.name);
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      out += `${name},${clock.format(s.start + i * s.step)},${Number.isNaN(v) ? '' : pyFloat(v)}\r\n`;
      if (++rows % CSV_ROWS_PER_PIECE === 0) {
        yield out;
        out = '';
      }
    }
  }
  if (out !== '') yield out;
}

export function renderCsv(series: readonly RenderSeries[], zone: string): string {
  return [...renderCsvPieces(series, zone)].join('');
}

export function renderRaw(series: readonly RenderSeries[]): string {
  let out = '';
  for (const s of series) {
    const vals: string[] = new Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      vals[i] = Number.isNaN(v) ? 'None' : pyFloat(v);
    }
    out += `${s.name},${Math.trunc(s.start)},${Math.trunc(s.end)},${Math.trunc(s.step)}|${vals.join(',')}\n`;
  }
  return out;
}

/** graphite-web's TimeSeries.getInfo(), key order included. */
export function renderPickle(series: readonly RenderSeries[]): Buffer {
  const list: PickleValue[] = series.map((s) => ({
    name: s.name,
    start: Math.trunc(s.start),
    end: Math.trunc(s.end),
    step: Math.trunc(s.step),
    values: valuesForPickle(s.values),
    pathExpression: s.pathExpression,
    valuesPerPoint: 1,
    consolidationFunc: s.consolidationFunc,
    xFilesFactor: new PickleFloat(s.xFilesFactor),
  }));
  return encodePickle(list);
}
