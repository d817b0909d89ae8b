import { fromWall, resolveZone, toWall, zoneOffset } from '../../../../shared/attime/attime.js';
import { badArgs } from '../errors.js';
import { parseInterval } from '../interval.js';
import { pyD, pyFloat, pyG, pyNum, pyRound } from '../pyformat.js';
import { getAggFunc, safeMax, safeMin, safePow, xffOk } from '../safe.js';
import { TimeSeries } from '../time-series.js';
import { checkGenerated, mapValues } from './common.js';
import { P, defineFunctions, type FnContext, type FunctionDef } from './types.js';

/** a value-by-value transform named `<name>(<series>)` with tag `<name>=<tagValue>` */
function unary(name: string, description: string, f: (v: number) => number, tagValue = '1'): FunctionDef {
  return {
    name,
    group: 'Transform',
    description,
    params: [P.seriesList()],
    call: (_ctx, a) => a.series().map((s) => mapValues(s, `${name}(${s.name})`, f, [name, tagValue])),
  };
}

/** graphite-web's _nonNegativeDelta: [delta or NaN, new previous] */
function nonNegativeDelta(val: number, prev: number, maxValue: number | undefined, minValue: number | undefined): [number, number] {
  if (maxValue !== undefined && val > maxValue) return [NaN, NaN];
  if (minValue !== undefined && val < minValue) return [NaN, NaN];
  if (Number.isNaN(prev) || Number.isNaN(val)) return [NaN, val];
  if (val >= prev) return [val - prev, val];
  if (maxValue !== undefined) return [maxValue + 1 + val - prev - (minValue ?? 0), val];
  if (minValue !== undefined) return [val - minValue, val];
  return [NaN, val];
}

function deltas(s: TimeSeries, maxValue: number | undefined, minValue: number | undefined, perStep: boolean): Float64Array {
  const out = new Float64Array(s.length);
  let prev = NaN;
  for (let i = 0; i < s.length; i++) {
    const [d, p] = nonNegativeDelta(s.values[i]!, prev, maxValue, minValue);
    prev = p;
    out[i] = Number.isNaN(d) ? NaN : perStep ? pyRound(d / s.step, 6) : d;
  }
  return out;
}

/** graphite-web's _summarizeValues: buckets of `interval` seconds from newStart (charge them first: FnContext.generate) */
export function summarizeValues(s: TimeSeries, func: string, interval: number, newStart: number, newEnd: number): { values: number[]; end: number } {
  const agg = getAggFunc(func);
  if (!agg) throw badArgs(`Unsupported aggregation function: ${func}`);
  const n = s.length;
  const intervalPoints = interval / s.step;
  const values: number[] = [];
  let i = 0;
  let t = newStart;
  while (t < newEnd) {
    let first = i;
    let nonNull = 0;
    while (i < n && s.start + i * s.step < t + interval) {
      const ts = s.start + i * s.step;
      if (ts <= t) first = i;
      if (ts >= t && !Number.isNaN(s.values[i]!)) nonNull++;
      i++;
    }
    values.push(xffOk(nonNull, intervalPoints, s.xFilesFactor) ? agg(s.values.subarray(first, i)) : NaN);
    t += interval;
  }
  return { values, end: t };
}

/**
 * graphite-web's hitcount: each value × the seconds of its step that fall in a bucket, summed per
 * bucket. The sums are kept in place (Python appends to a list per bucket and sums it: the same
 * additions in the same order from 0); a list per bucket cost ~200 bytes each: 2.6 M buckets of
 * hitcount("1s") over a month were 600 MB and 1.9 s per series (now 24 MB, 40 ms).
 */
function hitcount(s: TimeSeries, interval: number, bucketCount: number): TimeSeries {
  const step = Math.trunc(s.step);
  const sums = new Float64Array(bucketCount);
  const filled = new Uint8Array(bucketCount);
  const add = (b: number, x: number): void => {
    sums[b] = filled[b] ? sums[b]! + x : 0 + x;
    filled[b] = 1;
  };
  const newStart = Math.trunc(s.end - bucketCount * interval);
  const divmod = (a: number, b: number): [number, number] => {
    const q = Math.floor(a / b);
    return [q, a - q * b];
  };
  for (let i = 0; i < s.length; i++) {
    const value = s.values[i]!;
    if (Number.isNaN(value)) continue;
    const startTime = Math.trunc(s.start + i * step);
    const [sb, sm] = divmod(startTime - newStart, interval);
    let [eb, em] = divmod(startTime + step - newStart, interval);
    if (eb >= bucketCount) {
      eb = bucketCount - 1;
      em = interval;
    }
    if (sb === eb) {
      if (sb >= 0) add(sb, value * (em - sm));
    } else {
      if (sb >= 0) add(sb, value * (interval - sm));
      for (let j = sb + 1; j < eb; j++) if (j >= 0) add(j, value * interval);
      if (em > 0) add(eb, value * em);
    }
  }
  for (let b = 0; b < bucketCount; b++) if (!filled[b]) sums[b] = NaN;
  return s.copy({ start: newStart, step: interval, values: sums });
}

/** "1h" means one hour back: unsigned shifts get a minus sign, as graphite-web does */
function signedShift(shift: string): string {
  return /^\d/.test(shift) ? `-${shift}` : shift;
}

export function generator(
  name: string,
  alias: string,
  group: 'Transform' | 'Special',
  description: string,
  extra: FunctionDef['params'],
  value: (t: number, i: number, amp: number, prev: number) => number,
): FunctionDef {
  return {
    name,
    aliases: [alias],
    group,
    description,
    params: [P.req('name', 'string'), ...extra, P.opt('step', 'integer', 60)],
    call: (ctx, a) => {
      const step = a.num('step', 60);
      if (step <= 0) throw badArgs(`${name}(): step must be positive`);
      const start = Math.trunc(ctx.from);
      const end = Math.trunc(ctx.until);
      const n = Math.max(0, Math.ceil((ctx.until - ctx.from) / step));
      ctx.generate(name, n);
      const amp = a.num('amplitude', 1);
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = value(ctx.from + i * step, i, amp, i > 0 ? values[i - 1]! : 0);
      return [new TimeSeries({ name: a.str('name'), start, end, step, values, xFilesFactor: ctx.xFilesFactor ?? 0 })];
    },
  };
}

/** is daylight saving time in force at this instant in the zone? (its offset exceeds the year's smaller one) */
function isDst(epoch: number, zone: string): boolean {
  const year = new Date(epoch * 1000).getUTCFullYear();
  const jan = zoneOffset(Date.UTC(year, 0, 1) / 1000, zone);
  const jul = zoneOffset(Date.UTC(year, 6, 1) / 1000, zone);
  return zoneOffset(epoch, zone) > Math.min(jan, jul);
}

async function timeShift(ctx: FnContext, list: TimeSeries[], shiftIn: string, resetEnd: boolean, alignDst: boolean): Promise<TimeSeries[]> {
  const shift = signedShift(shiftIn);
  const delta = parseInterval(shift);
  if (list.length === 0) return [];
  const first = list[0]!;
  let dst = 0;
  if (alignDst) {
    // graphite-web: when the request lies wholly inside DST and the shifted range wholly outside
    // (or the reverse), move the shifted range by an hour so daily patterns line up
    // graphite-web asks the process's zone (time.localtime), which Django sets to TIME_ZONE
    const zone = resolveZone(ctx.serverTz);
    const req = [isDst(ctx.from, zone), isDst(ctx.until, zone)];
    const mine = [isDst(ctx.from + delta, zone), isDst(ctx.until + delta, zone)];
    if (req[0] && req[1] && !mine[0] && !mine[1]) dst = 3600;
    else if (!req[0] && !req[1] && mine[0] && mine[1]) dst = -3600;
  }
  const shifted = await ctx.evaluate(ctx.rawArgs[0]!, { from: ctx.from + delta + dst, until: ctx.until + delta + dst });
  return shifted.map((s) => {
    const r = s.copy({ name: `timeShift(${s.name}, "${shift}")` });
    r.pathExpression = s.pathExpression;
    r.tags.timeShift = shift;
    r.end = resetEnd ? first.end : s.end - s.start + first.start;
    r.start = first.start;
    return r;
  });
}

export const transformFunctions = defineFunctions([
  unary('absolute', 'The absolute value of each point.', Math.abs),
  unary('invert', 'One divided by each point (null where the point is 0).', (v) => safePow(v, -1)),
  unary('squareRoot', 'The square root of each point (null for negative values).', (v) => safePow(v, 0.5)),
  unary('exp', 'e raised to the power of each point.', Math.exp, 'e'),
  unary('sigmoid', 'The logistic function 1/(1+e^-x) of each point.', (v) => 1 / (1 + Math.exp(-v)), 'sigmoid'),
  unary('logit', 'The logit log(x/(1-x)) of each point (null outside (0,1)).', (v) => {
    const q = v / (1 - v);
    return v === 1 || q <= 0 || !Number.isFinite(q) ? NaN : Math.log(q);
  }, 'logit'),
  {
    name: 'isNonNull',
    group: 'Transform',
    description: '1 where the series has a value, 0 where it is null.',
    params: [P.seriesList()],
    call: (_ctx, a) => a.series().map((s) => s.derive(`isNonNull(${s.name})`, s.values.map((v) => (Number.isNaN(v) ? 0 : 1)), ['isNonNull', '1'])),
  },
  {
    name: 'scale',
    group: 'Transform',
    description: 'Multiplies each point by a constant.',
    params: [P.seriesList(), P.req('factor', 'float')],
    call: (_ctx, a) => {
      const f = a.num('factor');
      return a.series().map((s) => mapValues(s, `scale(${s.name},${pyG(f)})`, (v) => v * f, ['scale', pyFloat(f)]));
    },
  },
  {
    name: 'offset',
    group: 'Transform',
    description: 'Adds a constant to each point.',
    params: [P.seriesList(), P.req('factor', 'float')],
    call: (_ctx, a) => {
      const f = a.num('factor');
      return a.series().map((s) => mapValues(s, `offset(${s.name},${pyG(f)})`, (v) => v + f, ['offset', pyFloat(f)]));
    },
  },
  {
    name: 'add',
    group: 'Transform',
    description: 'Adds a constant to each point.',
    params: [P.seriesList(), P.req('constant', 'float')],
    call: (_ctx, a) => {
      const c = a.num('constant');
      return a.series().map((s) => mapValues(s, `add(${s.name},${pyD(c)})`, (v) => v + c, ['add', pyFloat(c)]));
    },
  },
  {
    name: 'pow',
    group: 'Transform',
    description: 'Raises each point to a power (null where undefined).',
    params: [P.seriesList(), P.req('factor', 'float')],
    call: (_ctx, a) => {
      const f = a.num('factor');
      return a.series().map((s) => mapValues(s, `pow(${s.name},${pyG(f)})`, (v) => safePow(v, f), ['pow', pyFloat(f)]));
    },
  },
  {
    name: 'scaleToSeconds',
    group: 'Transform',
    description: 'Turns a per-step value into a per-N-seconds value: value × seconds / step, rounded to 6 decimals.',
    params: [P.seriesList(), P.req('seconds', 'float')],
    call: (_ctx, a) => {
      const secs = a.num('seconds');
      return a.series().map((s) => mapValues(s, `scaleToSeconds(${s.name},${pyD(secs)})`, (v) => pyRound((v * secs) / s.step, 6), ['scaleToSeconds', pyFloat(secs)]));
    },
  },
  {
    name: 'offsetToZero',
    group: 'Transform',
    description: 'Subtracts the minimum of the series from every point, so the lowest point becomes 0.',
    params: [P.seriesList()],
    call: (_ctx, a) =>
      a.series().map((s) => {
        const m = safeMin(s.values);
        return mapValues(s, `offsetToZero(${s.name})`, (v) => v - m, ['offsetToZero', Number.isNaN(m) ? 'None' : pyNum(m, false)]);
      }),
  },
  {
    name: 'minMax',
    group: 'Transform',
    description: 'Scales each series linearly to the range 0..1 (0 everywhere when the series is flat).',
    params: [P.seriesList()],
    call: (_ctx, a) =>
      a.series().map((s) => {
        const lo = Number.isNaN(safeMin(s.values)) ? 0 : safeMin(s.values);
        const hi = Number.isNaN(safeMax(s.values)) ? 0 : safeMax(s.values);
        return mapValues(s, `minMax(${s.name})`, (v) => (hi === lo ? 0 : (v - lo) / (hi - lo)));
      }),
  },
  {
    name: 'round',
    group: 'Transform',
    description: 'Rounds each point to the given number of decimal places (half to even, as Python).',
    params: [P.seriesList(), P.opt('precision', 'integer', 0)],
    pySignature: '(seriesList, precision=None)',
    call: (_ctx, a) => {
      const p = a.optNum('precision');
      return a.series().map((s) =>
        mapValues(s, p === undefined ? `round(${s.name})` : `round(${s.name},${pyG(p)})`, (v) => pyRound(v, p ?? 0), ['round', String(p ?? 0)]),
      );
    },
  },
  {
    name: 'log',
    group: 'Transform',
    description: 'The logarithm of each point in the given base (default 10); null for values ≤ 0.',
    params: [P.seriesList(), P.opt('base', 'integer', 10)],
    call: (_ctx, a) => {
      const base = a.num('base', 10);
      const lb = Math.log(base);
      return a.series().map((s) => mapValues(s, `log(${s.name}, ${pyNum(base, true)})`, (v) => (v <= 0 ? NaN : Math.log(v) / lb), ['log', pyNum(base, true)]));
    },
  },
  {
    name: 'transformNull',
    group: 'Transform',
    description: 'Replaces nulls by a value (default 0); with referenceSeries only where some reference series has a value.',
    params: [P.seriesList(), P.opt('default', 'float', 0), P.opt('referenceSeries', 'seriesList')],
    call: (_ctx, a) => {
      const d = a.num('default', 0);
      const ref = a.has('referenceSeries') ? a.series('referenceSeries') : undefined;
      let defaults: Float64Array | undefined;
      if (ref && ref.length > 0) {
        let len = 0; // a loop, not Math.max(...): spread arguments overflow the stack past ~150k series
        for (const r of ref) if (r.length > len) len = r.length;
        defaults = new Float64Array(len);
        for (let i = 0; i < len; i++) defaults[i] = ref.some((r) => i < r.length && !Number.isNaN(r.values[i]!)) ? d : NaN;
      }
      return a.series().map((s) => {
        const name = ref ? `transformNull(${s.name},${pyG(d)},referenceSeries)` : `transformNull(${s.name},${pyG(d)})`;
        const v = s.values.map((x, i) => (Number.isNaN(x) ? (defaults ? (i < defaults.length ? defaults[i]! : NaN) : d) : x));
        // an explicit argument is a float in graphite-web, the default an int
        const r = s.derive(name, v, ['transformNull', a.has('default') ? pyFloat(d) : '0']);
        if (ref) r.tags.referenceSeries = '1';
        return r;
      });
    },
  },
  {
    name: 'keepLastValue',
    group: 'Transform',
    description: 'Fills runs of at most `limit` nulls with the last value seen before them (also at the end).',
    params: [P.seriesList(), P.opt('limit', 'intOrInf', Infinity)],
    call: (_ctx, a) => {
      const limit = a.num('limit', Infinity);
      return a.series().map((s) => {
        const v = s.values.slice();
        let nulls = 0;
        let last = NaN;
        for (let i = 0; i < v.length; i++) {
          if (Number.isNaN(v[i]!)) nulls++;
          else {
            if (nulls > 0 && nulls <= limit && !Number.isNaN(last)) v.fill(last, i - nulls, i);
            nulls = 0;
            last = v[i]!;
          }
        }
        if (nulls > 0 && nulls <= limit && !Number.isNaN(last)) v.fill(last, v.length - nulls);
        return s.derive(`keepLastValue(${s.name})`, v);
      });
    },
  },
  {
    name: 'interpolate',
    group: 'Transform',
    description: 'Fills runs of at most `limit` nulls between two values by linear interpolation.',
    params: [P.seriesList(), P.opt('limit', 'intOrInf', Infinity)],
    call: (_ctx, a) => {
      const limit = a.num('limit', Infinity);
      return a.series().map((s) => {
        const v = s.values.slice();
        let nulls = 0;
        for (let i = 1; i < v.length; i++) {
          const x = v[i]!;
          if (Number.isNaN(x)) nulls++;
          else if (nulls === 0) continue;
          else if (Number.isNaN(v[i - nulls - 1]!)) nulls = 0;
          else {
            if (nulls <= limit) {
              const base = v[i - nulls - 1]!;
              for (let k = i - nulls; k < i; k++) v[k] = base + ((k - (i - nulls - 1)) * (x - base)) / (nulls + 1);
            }
            nulls = 0;
          }
        }
        return s.derive(`interpolate(${s.name})`, v);
      });
    },
  },
  {
    name: 'derivative',
    group: 'Transform',
    description: 'The difference between each point and the one before it (null when either is null).',
    params: [P.seriesList()],
    call: (_ctx, a) =>
      a.series().map((s) => {
        const v = new Float64Array(s.length);
        let prev = NaN;
        for (let i = 0; i < s.length; i++) {
          const x = s.values[i]!;
          v[i] = Number.isNaN(prev) || Number.isNaN(x) ? NaN : x - prev;
          prev = x;
        }
        return s.derive(`derivative(${s.name})`, v, ['derivative', '1']);
      }),
  },
  {
    name: 'nonNegativeDerivative',
    group: 'Transform',
    description: 'Like derivative, but a decrease (counter reset) gives null, or a wrap-around delta when maxValue is given.',
    params: [P.seriesList(), P.opt('maxValue', 'float'), P.opt('minValue', 'float')],
    call: (_ctx, a) =>
      a.series().map((s) => s.derive(`nonNegativeDerivative(${s.name})`, deltas(s, a.optNum('maxValue'), a.optNum('minValue'), false), ['nonNegativeDerivative', '1'])),
  },
  {
    name: 'perSecond',
    group: 'Transform',
    description: 'The per-second rate of a growing counter: non-negative delta divided by the step, rounded to 6 decimals.',
    params: [P.seriesList(), P.opt('maxValue', 'float'), P.opt('minValue', 'float')],
    call: (_ctx, a) => a.series().map((s) => s.derive(`perSecond(${s.name})`, deltas(s, a.optNum('maxValue'), a.optNum('minValue'), true), ['perSecond', '1'])),
  },
  {
    name: 'integral',
    group: 'Transform',
    description: 'The running total of the series (nulls stay null and add nothing).',
    params: [P.seriesList()],
    call: (_ctx, a) =>
      a.series().map((s) => {
        let acc = 0;
        return mapValues(s, `integral(${s.name})`, (v) => (acc += v), ['integral', '1']);
      }),
  },
  {
    name: 'integralByInterval',
    group: 'Transform',
    description: 'A running total that restarts at every interval boundary, counted from the request start.',
    params: [P.seriesList(), P.req('intervalUnit', 'string')],
    call: (ctx, a) => {
      const unit = a.str('intervalUnit');
      let duration: number;
      try {
        duration = Math.abs(parseInterval(unit));
      } catch (err) {
        throw badArgs(`integralByInterval(): ${(err as Error).message}`);
      }
      if (duration === 0) throw badArgs('integralByInterval(): interval must not be 0');
      const startTime = Math.trunc(ctx.from);
      return a.series().map((s) => {
        const v = new Float64Array(s.length);
        let acc = 0;
        let t = s.start;
        for (let i = 0; i < s.length; i++) {
          if (Math.floor((t - startTime) / duration) !== Math.floor((t - startTime - s.step) / duration)) acc = 0;
          const x = s.values[i]!;
          if (!Number.isNaN(x)) acc += x;
          v[i] = acc;
          t += s.step;
        }
        return s.derive(`integralByInterval(${s.name},'${unit}')`, v, ['integralByInterval', unit]);
      });
    },
  },
  {
    name: 'delay',
    group: 'Transform',
    description: 'Shifts the values by a number of steps (positive: later), filling with nulls.',
    params: [P.seriesList(), P.req('steps', 'integer')],
    call: (_ctx, a) => {
      const steps = a.num('steps');
      return a.series().map((s) => {
        const n = s.length;
        const v = new Float64Array(n).fill(NaN);
        for (let i = 0; i < n; i++) {
          const j = i - steps;
          if (j >= 0 && j < n) v[i] = s.values[j]!;
        }
        return s.derive(`delay(${s.name},${pyD(steps)})`, v, ['delay', String(steps)]);
      });
    },
  },
  {
    name: 'summarize',
    group: 'Transform',
    description: 'Folds the series into buckets of the given interval with an aggregation function (default sum). Buckets align to multiples of the interval unless alignToFrom.',
    params: [P.seriesList(), P.req('intervalString', 'interval', { suggestions: ['10min', '1h', '1d'] }), P.opt('func', 'aggFunc', 'sum'), P.opt('alignToFrom', 'boolean', false)],
    call: (ctx, a) => {
      const intervalString = a.str('intervalString');
      const interval = parseInterval(intervalString);
      if (interval <= 0) throw badArgs('summarize(): the interval must be positive');
      const func = a.str('func', 'sum');
      const alignToFrom = a.bool('alignToFrom');
      return a.series().map((s) => {
        const newStart = alignToFrom ? s.start : s.start - (s.start % interval);
        let newEnd = alignToFrom ? s.end : s.end - (s.end % interval) + interval;
        ctx.generate('summarize', Math.ceil((newEnd - newStart) / interval));
        const r = summarizeValues(s, func, interval, newStart, newEnd);
        if (alignToFrom) newEnd = r.end;
        const out = s.copy({
          name: `summarize(${s.name}, "${intervalString}", "${func}"${alignToFrom ? ', true' : ''})`,
          start: newStart,
          end: newEnd,
          step: interval,
          values: Float64Array.from(r.values),
        });
        out.tags.summarize = intervalString;
        out.tags.summarizeFunction = func;
        return out;
      });
    },
  },
  {
    name: 'hitcount',
    group: 'Transform',
    description: 'Turns a rate into counts per interval: each value × its step, spread over the buckets it overlaps.',
    params: [P.seriesList(), P.req('intervalString', 'interval', { suggestions: ['10min', '1h', '1d'] }), P.opt('alignToInterval', 'boolean', false)],
    call: async (ctx, a) => {
      const intervalString = a.str('intervalString');
      const interval = Math.trunc(parseInterval(intervalString));
      if (interval <= 0) throw badArgs('hitcount(): the interval must be positive');
      const align = a.bool('alignToInterval');
      let list = a.series();
      if (align) {
        // truncate the request start to the day, hour or minute on the request's wall clock
        const zone = resolveZone(ctx.tz);
        const wall = toWall(ctx.from, zone);
        const unit = interval >= 86400 ? 86400 : interval >= 3600 ? 3600 : interval >= 60 ? 60 : 0;
        const from = unit ? fromWall(wall - (wall % unit), zone) : ctx.from;
        list = (await ctx.evaluate(ctx.rawArgs[0]!, { from })).map((s) => {
          const count = Math.floor((s.end - s.start) / interval);
          return s.copy({ end: s.start + count * interval + interval, pathExpression: s.pathExpression });
        });
      }
      return list.map((s) => {
        const bucketCount = Math.ceil((s.end - s.start) / interval);
        ctx.generate('hitcount', bucketCount);
        const r = hitcount(s, interval, bucketCount);
        r.name = `hitcount(${s.name}, "${intervalString}"${align ? ', true' : ''})`;
        r.pathExpression = r.name;
        r.tags.hitcount = intervalString;
        return r;
      });
    },
  },
  {
    name: 'timeShift',
    group: 'Transform',
    description: 'Draws the series as it was a time ago ("1d" means one day back; "+1h" shifts forward), relabelled onto the requested range.',
    params: [
      P.seriesList(),
      P.req('timeShift', 'interval', { suggestions: ['1h', '6h', '12h', '1d', '2d', '7d', '14d', '30d'] }),
      P.opt('resetEnd', 'boolean', true),
      P.opt('alignDst', 'boolean', false, { pyName: 'alignDST' }),
    ],
    pySignature: '(seriesList, timeShift, resetEnd=True, alignDST=False)',
    call: (ctx, a) => timeShift(ctx, a.series(), a.str('timeShift'), a.bool('resetEnd', true), a.bool('alignDst')),
  },
  {
    name: 'timeStack',
    group: 'Transform',
    description: 'The series shifted back by timeShiftUnit × n for each n from timeShiftStart to timeShiftEnd-1, all drawn over the requested range.',
    params: [
      P.seriesList(),
      P.opt('timeShiftUnit', 'interval', '1d', { suggestions: ['1h', '6h', '12h', '1d', '2d', '7d', '14d', '30d'] }),
      P.opt('timeShiftStart', 'integer', 0),
      P.opt('timeShiftEnd', 'integer', 7),
    ],
    call: async (ctx, a) => {
      const unit = signedShift(a.str('timeShiftUnit', '1d'));
      checkGenerated('timeStack', (a.num('timeShiftEnd', 7) - a.num('timeShiftStart', 0)) * 10_000);
      const delta = parseInterval(unit);
      const list = a.series();
      if (list.length === 0) return [];
      const first = list[0]!;
      const out: TimeSeries[] = [];
      for (let n = a.num('timeShiftStart', 0); n < a.num('timeShiftEnd', 7); n++) {
        ctx.checkDeadline();
        for (const s of await ctx.evaluate(ctx.rawArgs[0]!, { from: ctx.from + delta * n, until: ctx.until + delta * n })) {
          const r = s.copy({ name: `timeShift(${s.name}, ${unit}, ${n})`, start: first.start, end: first.end });
          r.tags.timeShiftUnit = unit;
          r.tags.timeShift = String(n);
          out.push(r);
        }
      }
      return out;
    },
  },
  generator('timeFunction', 'time', 'Transform', 'A series whose value is its own timestamp, one point per step seconds.', [], (t) => t),
  generator('sinFunction', 'sin', 'Transform', 'A sine wave of the timestamp times amplitude, one point per step seconds.', [P.opt('amplitude', 'integer', 1)], (t, _i, amp) => Math.sin(t) * amp),
]);

export { timeShift, signedShift };
