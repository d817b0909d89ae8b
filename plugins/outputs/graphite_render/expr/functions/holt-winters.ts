import { parseInterval } from '../interval.js';
import { TimeSeries } from '../time-series.js';
import { areaBetweenPair } from './graph.js';
import { P, defineFunctions, type FnContext, type FunctionDef } from './types.js';

/**
 * Holt-Winters triple exponential smoothing as graphite-web 1.1.8 computes it (fixed
 * alpha = gamma = 0.1, beta = 0.0035; one season = `seasonality`). Nulls break the recurrence:
 * the point gets no intercept and the next prediction is null.
 */
export function holtWintersAnalysis(s: TimeSeries, seasonality: string): { predictions: Float64Array; deviations: Float64Array } {
  const alpha = 0.1;
  const gamma = 0.1;
  const beta = 0.0035;
  const seasonLength = Math.floor(parseInterval(seasonality) / s.step);
  const n = s.length;
  const intercepts: number[] = [];
  const slopes: number[] = [];
  const seasonals: number[] = [];
  const predictions = new Float64Array(n);
  const deviations = new Float64Array(n);
  const lastSeasonal = (i: number): number => (i - seasonLength >= 0 ? seasonals[i - seasonLength]! : 0);
  const lastDeviation = (i: number): number => (i - seasonLength >= 0 ? deviations[i - seasonLength]! : 0);
  let nextPred = NaN;
  for (let i = 0; i < n; i++) {
    const actual = s.values[i]!;
    if (Number.isNaN(actual)) {
      intercepts.push(NaN);
      slopes.push(0);
      seasonals.push(0);
      predictions[i] = nextPred;
      deviations[i] = 0;
      nextPred = NaN;
      continue;
    }
    let lastIntercept: number;
    let lastSlope: number;
    let prediction: number;
    if (i === 0) {
      lastIntercept = actual;
      lastSlope = 0;
      prediction = actual;
    } else {
      lastIntercept = intercepts[intercepts.length - 1]!;
      lastSlope = slopes[slopes.length - 1]!;
      if (Number.isNaN(lastIntercept)) lastIntercept = actual;
      prediction = nextPred;
    }
    const ls = lastSeasonal(i);
    const nextLs = lastSeasonal(i + 1);
    const lsd = lastDeviation(i);
    const intercept = alpha * (actual - ls) + (1 - alpha) * (lastIntercept + lastSlope);
    const slope = beta * (intercept - lastIntercept) + (1 - beta) * lastSlope;
    const seasonal = gamma * (actual - intercept) + (1 - gamma) * ls;
    nextPred = intercept + slope + nextLs;
    const deviation = gamma * Math.abs(actual - (Number.isNaN(prediction) ? 0 : prediction)) + (1 - gamma) * lsd;
    intercepts.push(intercept);
    slopes.push(slope);
    seasonals.push(seasonal);
    predictions[i] = prediction;
    deviations[i] = deviation;
  }
  return { predictions, deviations };
}

function bootstrapSeconds(interval: string): number {
  return Math.abs(parseInterval(interval));
}

/** the first argument re-evaluated with `bootstrapInterval` more history, analysed */
async function analyse(ctx: FnContext, bootstrapInterval: string, seasonality: string) {
  const preview = bootstrapSeconds(bootstrapInterval);
  const wide = await ctx.evaluate(ctx.rawArgs[0]!, { from: ctx.from - preview });
  return wide.map((s) => {
    const a = holtWintersAnalysis(s, seasonality);
    const skip = Math.floor(preview / s.step);
    // graphite-web's analysis writes both tags into the (shared) tags of the input
    s.tags.holtWintersForecast = '1';
    s.tags.holtWintersDeviation = '1';
    return { s, preview, skip, predictions: a.predictions.slice(skip), deviations: a.deviations.slice(skip) };
  });
}

async function bands(ctx: FnContext, delta: number, bootstrapInterval: string, seasonality: string): Promise<TimeSeries[]> {
  const out: TimeSeries[] = [];
  for (const { s, preview, predictions, deviations } of await analyse(ctx, bootstrapInterval, seasonality)) {
    const upper = new Float64Array(predictions.length);
    const lower = new Float64Array(predictions.length);
    for (let i = 0; i < predictions.length; i++) {
      const f = predictions[i]!;
      const d = deviations[i]!;
      upper[i] = Number.isNaN(f) || Number.isNaN(d) ? NaN : f + delta * d;
      lower[i] = Number.isNaN(f) || Number.isNaN(d) ? NaN : f - delta * d;
    }
    // upper and lower share one tags object in graphite-web, so both carry both markers
    const tags = { ...s.tags, holtWintersConfidenceUpper: '1', holtWintersConfidenceLower: '1' };
    const base = { start: s.start + preview, end: s.end, step: s.step, xFilesFactor: s.xFilesFactor, pathExpression: s.pathExpression };
    out.push(new TimeSeries({ ...base, name: `holtWintersConfidenceLower(${s.name})`, values: lower, tags }));
    out.push(new TimeSeries({ ...base, name: `holtWintersConfidenceUpper(${s.name})`, values: upper, tags: { ...tags } }));
  }
  return out;
}

const HW_PARAMS = [
  P.opt('bootstrapInterval', 'interval', '7d', { suggestions: ['7d', '30d'] }),
  P.opt('seasonality', 'interval', '1d', { suggestions: ['1d', '7d'] }),
];

const withDelta = (): FunctionDef['params'] => [P.seriesList(), P.opt('delta', 'integer', 3), ...HW_PARAMS];

export const holtWintersFunctions = defineFunctions([
  {
    name: 'holtWintersForecast',
    group: 'Calculate',
    description: 'The Holt-Winters forecast of each series, trained on bootstrapInterval of history before the range, with one season = seasonality.',
    params: [P.seriesList(), ...HW_PARAMS],
    call: async (ctx, a) =>
      (await analyse(ctx, a.str('bootstrapInterval', '7d'), a.str('seasonality', '1d'))).map(
        ({ s, preview, predictions }) =>
          new TimeSeries({
            name: `holtWintersForecast(${s.name})`,
            start: s.start + preview,
            end: s.end,
            step: s.step,
            values: predictions,
            tags: { ...s.tags },
            xFilesFactor: s.xFilesFactor,
          }),
      ),
  },
  {
    name: 'holtWintersConfidenceBands',
    group: 'Calculate',
    description: 'Upper and lower Holt-Winters confidence bands: forecast ± delta × the smoothed deviation.',
    params: withDelta(),
    call: (ctx, a) => bands(ctx, a.num('delta', 3), a.str('bootstrapInterval', '7d'), a.str('seasonality', '1d')),
  },
  {
    name: 'holtWintersAberration',
    group: 'Calculate',
    description: 'How far each point lies outside the Holt-Winters confidence bands (0 inside them).',
    params: withDelta(),
    call: async (ctx, a) => {
      const b = await bands(ctx, a.num('delta', 3), a.str('bootstrapInterval', '7d'), a.str('seasonality', '1d'));
      const byName = new Map(b.map((s) => [s.name, s]));
      return a.series().map((s) => {
        const lower = byName.get(`holtWintersConfidenceLower(${s.name})`);
        const upper = byName.get(`holtWintersConfidenceUpper(${s.name})`);
        const v = new Float64Array(s.length);
        // The bands come from the bootstrap fetch, which may be answered from a coarser archive than
        // the series: pair each point with the band bucket holding its timestamp. (graphite-web pairs
        // them by index, which is the same when the steps agree and an IndexError when they do not.)
        const at = (band: TimeSeries | undefined, t: number): number => {
          if (!band) return NaN;
          const j = Math.floor((t - band.start) / band.step);
          return j >= 0 && j < band.length ? band.values[j]! : NaN;
        };
        for (let i = 0; i < s.length; i++) {
          const x = s.values[i]!;
          const t = s.start + i * s.step;
          const up = at(upper, t);
          const lo = at(lower, t);
          if (Number.isNaN(x)) v[i] = 0;
          else if (!Number.isNaN(up) && x > up) v[i] = x - up;
          else if (!Number.isNaN(lo) && x < lo) v[i] = x - lo;
          else v[i] = 0;
        }
        const r = s.derive(`holtWintersAberration(${s.name})`, v);
        r.tags.holtWintersAberration = '1';
        return r;
      });
    },
  },
  {
    name: 'holtWintersConfidenceArea',
    group: 'Calculate',
    description: 'The Holt-Winters confidence bands as an area (PNG rendering only; the two band series in JSON).',
    params: withDelta(),
    call: async (ctx, a) => {
      const b = await bands(ctx, a.num('delta', 3), a.str('bootstrapInterval', '7d'), a.str('seasonality', '1d'));
      return areaBetweenPair(b).map((s) => {
        const r = s.copy({ name: s.name.replace('areaBetween', 'holtWintersConfidenceArea') });
        delete r.tags.areaBetween;
        r.tags.holtWintersConfidenceArea = '1';
        return r;
      });
    },
  },
]);
