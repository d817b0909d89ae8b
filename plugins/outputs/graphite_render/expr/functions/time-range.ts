import { AtTimeError, fromWall, parseAtTime, resolveZone, toWall } from '../../../../shared/attime/attime.js';
import { badArgs } from '../errors.js';
import { parseInterval } from '../interval.js';
import { safeLen } from '../safe.js';
import { TimeSeries } from '../time-series.js';
import { summarizeValues } from './transform.js';
import { P, defineFunctions, type FnContext } from './types.js';

/** a `date` argument: at-time text ("-1h", "20231114", "now") or epoch seconds */
function parseDate(ctx: FnContext, v: unknown, param: string): number {
  if (typeof v === 'number') return v;
  try {
    // graphite-web parses these without the request's tzinfo, i.e. in TIME_ZONE
    return parseAtTime(String(v), { now: ctx.now, ...(ctx.serverTz ? { tz: ctx.serverTz } : {}) });
  } catch (err) {
    if (err instanceof AtTimeError || err instanceof RangeError) throw badArgs(`invalid date for ${param}: ${JSON.stringify(v)}`);
    throw err;
  }
}

/** least-squares line through the non-null points, in value = offset + t × factor form */
function linearRegressionAnalysis(s: TimeSeries): { factor: number; offset: number } | undefined {
  const n = safeLen(s.values);
  let sumI = 0;
  let sumV = 0;
  let sumII = 0;
  let sumIV = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s.values[i]!;
    if (Number.isNaN(v)) continue;
    sumI += i;
    sumV += v;
    sumII += i * i;
    sumIV += i * v;
  }
  const denominator = n * sumII - sumI * sumI;
  if (denominator === 0) return undefined;
  const factor = (n * sumIV - sumI * sumV) / denominator / s.step;
  const offset = (sumII * sumV - sumIV * sumI) / denominator - factor * s.start;
  return { factor, offset };
}

/** smartSummarize's alignTo: the request start truncated to that calendar unit, in the request's zone */
export function alignStart(from: number, alignTo: string, tz: string | undefined): number {
  const zone = resolveZone(tz);
  const wall = toWall(Math.trunc(from), zone);
  const d = new Date(wall * 1000);
  const unit = alignTo.replace(/^\d+/, '');
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const h = d.getUTCHours();
  const mi = d.getUTCMinutes();
  const sec = d.getUTCSeconds();
  const at = (...a: [number, number, number, number?, number?, number?]): number => fromWall(Date.UTC(a[0], a[1], a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0) / 1000, zone);
  if (unit.startsWith('y')) return at(y, 0, 1);
  if (unit.startsWith('mon')) return at(y, mo, 1);
  if (unit.startsWith('w')) {
    const last = alignTo[alignTo.length - 1]!;
    const isoTarget = /[a-z]/i.test(last) ? 1 : Number(last);
    const iso = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
    let back = iso - isoTarget;
    if (back < 0) back += 7;
    return at(y, mo, day - back);
  }
  if (unit.startsWith('d')) return at(y, mo, day);
  if (unit.startsWith('h')) return at(y, mo, day, h);
  if (unit.startsWith('min')) return at(y, mo, day, h, mi);
  if (unit.startsWith('s')) return at(y, mo, day, h, mi, sec);
  throw badArgs(`Invalid alignTo unit '${alignTo}'`);
}

export const timeRangeFunctions = defineFunctions([
  {
    name: 'timeSlice',
    group: 'Transform',
    description: 'Keeps only the points between startSliceAt and endSliceAt (at-style times such as "-1h" or "now"); others become null.',
    params: [P.seriesList(), P.req('startSliceAt', 'date'), P.opt('endSliceAt', 'date', 'now')],
    call: (ctx, a) => {
      const start = Math.trunc(parseDate(ctx, a.raw('startSliceAt'), 'startSliceAt'));
      const end = Math.trunc(parseDate(ctx, a.raw('endSliceAt') ?? 'now', 'endSliceAt'));
      return a.series().map((s) => {
        const v = new Float64Array(s.length);
        // graphite-web counts from the request start, not the series start
        let t = ctx.from;
        for (let i = 0; i < s.length; i++) {
          const x = s.values[i]!;
          v[i] = Number.isNaN(x) || t < start || t > end ? NaN : x;
          t += s.step;
        }
        const r = s.copy({ name: `timeSlice(${s.name}, ${start}, ${end})`, values: v, pathExpression: s.pathExpression });
        r.tags.timeSliceStart = String(start);
        r.tags.timeSliceEnd = String(end);
        return r;
      });
    },
  },
  {
    name: 'verticalLine',
    group: 'Graph',
    description: 'A vertical line at the given time (two points of value 1 at that timestamp), labelled.',
    params: [P.req('ts', 'date'), P.opt('label', 'string'), P.opt('color', 'string')],
    call: (ctx, a) => {
      const ts = Math.trunc(parseDate(ctx, a.raw('ts'), 'ts'));
      if (ts < Math.trunc(ctx.from)) throw badArgs(`verticalLine(): timestamp ${ts} exists before start of range`);
      if (ts > Math.trunc(ctx.until)) throw badArgs(`verticalLine(): timestamp ${ts} exists after end of range`);
      const label = a.optStr('label') ?? '';
      return [new TimeSeries({ name: label, start: ts, end: ts, step: 1, values: new Float64Array([1, 1]), xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  },
  {
    name: 'linearRegression',
    group: 'Calculate',
    description: 'The least-squares line of each series, fitted over [startSourceAt, endSourceAt] (default: the request range) and drawn over the request range.',
    params: [P.seriesList(), P.opt('startSourceAt', 'date'), P.opt('endSourceAt', 'date')],
    call: async (ctx, a) => {
      const from = a.has('startSourceAt') ? parseDate(ctx, a.raw('startSourceAt'), 'startSourceAt') : ctx.from;
      const until = a.has('endSourceAt') ? parseDate(ctx, a.raw('endSourceAt'), 'endSourceAt') : ctx.until;
      const sources = await ctx.evaluate(ctx.rawArgs[0]!, { from, until });
      const list = a.series();
      const out: TimeSeries[] = [];
      for (let k = 0; k < Math.min(sources.length, list.length); k++) {
        const s = list[k]!;
        const fit = linearRegressionAnalysis(sources[k]!);
        if (!fit) continue;
        const v = Float64Array.from({ length: s.length }, (_, i) => fit.offset + (s.start + i * s.step) * fit.factor);
        const range = `${Math.trunc(from)}, ${Math.trunc(until)}`;
        const r = s.copy({ name: `linearRegression(${s.name}, ${range})`, values: v });
        r.tags.linearRegressions = range;
        out.push(r);
      }
      return out;
    },
  },
  {
    name: 'smartSummarize',
    group: 'Transform',
    description: 'Like summarize, but buckets start at the request start (optionally aligned down to a calendar unit with alignTo: "1d", "1h", "1w1"…).',
    params: [
      P.seriesList(),
      P.req('intervalString', 'interval', { suggestions: ['10min', '1h', '1d'] }),
      P.opt('func', 'aggFunc', 'sum'),
      P.opt('alignTo', 'string', undefined, { options: [false, null, true, 'days', 'hours', 'minutes', 'months', 'seconds', 'weeks', 'years'] }),
    ],
    call: async (ctx, a) => {
      const intervalString = a.str('intervalString');
      const interval = parseInterval(intervalString);
      if (interval <= 0) throw badArgs('smartSummarize(): the interval must be positive');
      const func = a.str('func', 'sum');
      let list = a.series();
      const alignTo = a.raw('alignTo');
      if (typeof alignTo === 'string' && alignTo.toLowerCase() !== 'true' && alignTo.toLowerCase() !== 'false') {
        list = await ctx.evaluate(ctx.rawArgs[0]!, { from: alignStart(ctx.from, alignTo, ctx.tz) });
      }
      return list.map((s) => {
        ctx.generate('smartSummarize', Math.ceil((s.end - s.start) / interval));
        const r = summarizeValues(s, func, interval, s.start, s.end);
        const out = s.copy({ name: `smartSummarize(${s.name}, "${intervalString}", "${func}")`, end: r.end, step: interval, values: Float64Array.from(r.values) });
        out.tags.smartSummarize = intervalString;
        out.tags.smartSummarizeFunction = func;
        return out;
      });
    },
  },
]);
