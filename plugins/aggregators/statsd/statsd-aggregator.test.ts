import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileHistograms, histogram, percentName, timerStats, timerStatWanted, type TimerConfig } from './metrics.js';
import { GraphiteNamer } from './naming.js';
import { replayer } from '../../../test/statsd/replay.js';
import { fromEtsyConfig } from './etsy-config.js';

const cfg = (p: number[], filter: string[] = []): TimerConfig => ({
  intervalSecs: 10,
  percentThresholds: p,
  percentNames: p.map(percentName),
  calculatedTimerMetrics: new Set(filter),
});

function stats(values: number[], count: number, c: TimerConfig): Record<string, number> {
  const out: Record<string, number> = {};
  timerStats(Float64Array.from(values).sort(), count, c, undefined, (k, v) => (out[k] = v));
  return out;
}

test('timer stats: percentiles, top percentiles, median, population std', () => {
  const s = stats([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 20, cfg([90, -20]));
  assert.equal(s.upper_90, 9);
  assert.equal(s.count_90, 9);
  assert.equal(s.sum_90, 45);
  assert.equal(s.lower_top20, 9);
  assert.equal(s.sum_top20, 19);
  assert.equal(s.median, 5.5);
  assert.equal(s.count, 20);
  assert.equal(s.count_ps, 2);
  assert.equal(s.std, Math.sqrt(8.25));
});

test('a percentile that rounds to zero values emits nothing; an idle timer emits count 0 only', () => {
  assert.equal(stats([1, 2, 3], 3, cfg([10])).count_10, undefined);
  assert.deepEqual(stats([], 0, cfg([90])), { count: 0, count_ps: 0 });
});

test('names of percentiles and the calculatedTimerMetrics filter', () => {
  assert.equal(percentName(99.9), '99_9');
  assert.equal(percentName(-10), 'top10');
  assert.ok(timerStatWanted('upper_90', new Set(['upper_percent'])));
  assert.ok(!timerStatWanted('upper', new Set(['upper_percent'])));
});

test('histogram bins: [previous, bin), inf catches the rest, overflow without inf is dropped', () => {
  const out: Record<string, number> = {};
  histogram(Float64Array.from([1, 5, 10, 50, 500]), compileHistograms([{ metric: '', bins: [5, 50.5] }])[0]!.bins, (k, v) => (out[k] = v));
  assert.deepEqual(out, { 'histogram.bin_5': 1, 'histogram.bin_50_5': 3 });
});

test('histogram bins given as numeric strings (an Etsy config.js may): compared as numbers, named as written', () => {
  const out: Record<string, number> = {};
  histogram(Float64Array.from([1, 5, 10, 50, 500]), compileHistograms([{ metric: '', bins: ['10', '50.0', 'inf'] }])[0]!.bins, (k, v) => (out[k] = v));
  assert.deepEqual(out, { 'histogram.bin_10': 2, 'histogram.bin_50_0': 1, 'histogram.bin_inf': 2 });
});

test('namer: legacy and prefixed layouts, suffix before tags', () => {
  const legacy = new GraphiteNamer({ namespace: 'legacy', globalPrefix: 'stats', prefixCounter: 'counters', prefixTimer: 'timers', prefixGauge: 'gauges', prefixSet: 'sets', globalSuffix: 'h1', prefixStats: 'statsd' });
  assert.equal(legacy.counterRate('a;env=prod'), 'stats.a.h1;env=prod');
  assert.equal(legacy.counterCountName('a'), 'stats_counts.a.h1');
  assert.equal(legacy.numStats(), 'statsd.numStats.h1');
  const prefixed = new GraphiteNamer({ namespace: 'prefixed', globalPrefix: '', prefixCounter: 'c', prefixTimer: 't', prefixGauge: 'g', prefixSet: 's', globalSuffix: '', prefixStats: 'statsd' });
  assert.equal(prefixed.counterRate('a'), 'c.a.rate');
  assert.equal(prefixed.timerStat('a;x=y', 'histogram.bin_5'), 't.a.histogram.bin_5;x=y');
  assert.equal(prefixed.numStats(), 'statsd.numStats');
});

test('cardinality cap: new keys beyond the cap are dropped and counted, known keys keep counting', async () => {
  const r = replayer({ flushInterval: 10000 }, { maxNewKeysPerFlush: 2 });
  r.packet('a:1|c\nb:1|c\nc:1|c\na:1|c');
  const pts = new Map(await r.flush(1_700_000_010));
  assert.equal(pts.get('stats_counts.a'), 2);
  assert.equal(pts.get('stats_counts.b'), 1);
  assert.equal(pts.has('stats_counts.c'), false);
  r.packet('c:1|c');
  const next = new Map(await r.flush(1_700_000_020));
  assert.equal(next.get('stats_counts.c'), 1, 'the cap is per flush interval');
});

/** a key of `length` characters: `first` then nodes of `letter`, each within the 255-byte node limit */
function dotted(first: string, letter: string, length: number): string {
  let key = first;
  while (key.length < length) key += `.${letter.repeat(Math.min(200, length - key.length - 1))}`;
  return key;
}

test('a key whose series names would pass 1024 characters is a bad line; its other keys and types are untouched', async () => {
  const r = replayer({ flushInterval: 10000, percentThreshold: [99.9] });
  // `stats.timers.<k>.sum_squares_99_9` is 1,032 characters, `stats.timers.<k>.count` 1,021:
  // the key is refused whole, not written as some of its series
  const k = dotted('t', 'x', 1002);
  const c = dotted('c', 'y', 1011); // stats_counts.<c> is 1,024 characters: fits, one more does not
  r.packet(`${k}:5|ms\n${k}:7|ms\n${c}:1|c\n${c}x:1|c\n${k}:1|g\nok:1|ms`);
  const pts = new Map(await r.flush(1_700_000_010));
  assert.deepEqual([...pts.keys()].filter((n) => n.includes('xxxx')), [`stats.gauges.${k}`], 'only the gauge of the timer key fits');
  assert.equal(pts.get(`stats_counts.${c}`), 1);
  assert.equal(pts.has(`stats_counts.${c}x`), false);
  assert.equal(pts.get('stats.timers.ok.count'), 1);
  assert.equal(pts.get('stats_counts.statsd.bad_lines_seen'), 3);
  assert.equal(r.aggregatorStats.snapshot().dropped.name_too_long, 3);
  for (const name of pts.keys()) assert.ok(name.length <= 1024, name);
});

test('counters become rate and count; the internal counters come from the input', async () => {
  const r = replayer({ flushInterval: 10000 });
  r.packet('a:5|c\nbad');
  const pts = new Map(await r.flush(1_700_000_010));
  assert.equal(pts.get('stats.a'), 0.5);
  assert.equal(pts.get('stats_counts.a'), 5);
  assert.equal(pts.get('stats_counts.statsd.packets_received'), 1);
  assert.equal(pts.get('stats_counts.statsd.metrics_received'), 2);
  assert.equal(pts.get('stats_counts.statsd.bad_lines_seen'), 1);
  assert.equal(pts.get('statsd.numStats'), 4);
});

test('flushes fire on interval boundaries, one per boundary, stamped with it', async () => {
  const r = replayer({}, { flushIntervalMs: 100 });
  const stamps: number[] = [];
  r.input.bus.on('flushed', (s) => stamps.push(s.timestamp));
  await r.aggregator.start();
  try {
    const deadline = Date.now() + 5000;
    while (stamps.length < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  } finally {
    await r.aggregator.stop();
  }
  assert.ok(stamps.length >= 5, `${stamps.length} flushes`);
  for (let i = 0; i < stamps.length; i++) {
    assert.equal(Math.round(stamps[i]! * 1000) % 100, 0, `flush ${i} at ${stamps[i]}`);
    // a boundary is never flushed twice (a very late timer on a loaded machine may skip one)
    if (i > 0) {
      const gap = Math.round((stamps[i]! - stamps[i - 1]!) * 1000);
      assert.ok(gap > 0 && gap % 100 === 0, `gap ${gap} ms between flushes ${i - 1} and ${i}`);
    }
  }
});

test('config validation: defaults applied, bad options refused with the key path', async () => {
  const { validateConfig } = await import('../../../core/runtime/runtime.js');
  const { builtinPlugins } = await import('../../index.js');
  const ok = await validateConfig({ aggregators: { statsd: { type: 'statsd' } } }, { plugins: builtinPlugins });
  const agg = (ok.config.aggregators as Record<string, Record<string, unknown>>).statsd!;
  assert.equal(agg.flushIntervalMs, 10000);
  assert.deepEqual(agg.percentThresholds, [90]);
  assert.equal(agg.namespace, 'legacy');
  await assert.rejects(
    validateConfig({ aggregators: { statsd: { type: 'statsd', namespace: 'flat', deleteIdle: ['nope'] } } }, { plugins: builtinPlugins }),
    /namespace|deleteIdle/,
  );
  await assert.rejects(
    validateConfig({ aggregators: { statsd: { type: 'statsd', histograms: [{ metric: '', bins: [10, 'infinity'] }] } } }, { plugins: builtinPlugins }),
    /bins/,
  );
});

test('Etsy configs with dotted prefixes and suffix, and string bins, validate and name as Etsy does', async () => {
  const { validateConfig } = await import('../../../core/runtime/runtime.js');
  const { builtinPlugins } = await import('../../index.js');
  const etsy = {
    prefixStats: 'my.sd',
    histogram: [{ metric: '', bins: ['10', 'inf'] }],
    graphite: { legacyNamespace: false, prefixCounter: 'c.x', globalSuffix: 'web01.dc1' },
  };
  const mapped = fromEtsyConfig(etsy);
  await validateConfig({ aggregators: { statsd: { type: 'statsd', ...mapped.aggregator } } }, { plugins: builtinPlugins });
  for (const bad of [{ globalSuffix: '.web01' }, { prefixStats: 'a..b' }, { prefixCounter: 'c.' }]) {
    await assert.rejects(validateConfig({ aggregators: { statsd: { type: 'statsd', ...bad } } }, { plugins: builtinPlugins }), new RegExp(Object.keys(bad)[0]!));
  }
  const r = replayer(etsy);
  r.packet('m:1|c\nt:5|ms\nt:50|ms');
  const pts = new Map(await r.flush(1_700_000_010));
  assert.equal(pts.get('stats.c.x.m.count.web01.dc1'), 1);
  assert.equal(pts.get('stats.timers.t.histogram.bin_10.web01.dc1'), 1);
  assert.equal(pts.get('stats.timers.t.histogram.bin_inf.web01.dc1'), 1);
  assert.equal(pts.get('stats.my.sd.numStats.web01.dc1'), 5);
  assert.ok(pts.has('stats.c.x.my.sd.metrics_received.rate.web01.dc1'), [...pts.keys()].filter((k) => k.includes('metrics_received')).join(' '));
});
