import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExprEvalError, PointBudget, evaluateTarget, parseTarget, type EvalContext, type TimeSeries } from './index.js';
import { FakeStore, type FixtureSeries } from './test-support/fake-store.js';

const T0 = 1_700_000_000 - (1_700_000_000 % 3600);
const fixtures: FixtureSeries[] = [
  { name: 'a.x.cpu', start: T0 - 3600, step: 60, values: Array.from({ length: 120 }, (_, i) => i) },
  { name: 'a.y.cpu', start: T0 - 3600, step: 60, values: Array.from({ length: 120 }, (_, i) => (i % 4 === 0 ? null : 2 * i)) },
  { name: 'b.z.mem', start: T0 - 3600, step: 300, values: Array.from({ length: 24 }, (_, i) => i * 10) },
  { name: 'cpu;dc=eu;host=h1', start: T0 - 3600, step: 60, values: Array.from({ length: 120 }, () => 1) },
  { name: 'cpu;dc=us;host=h2', start: T0 - 3600, step: 60, values: Array.from({ length: 120 }, () => 2) },
];

function ctx(over: Partial<EvalContext> = {}, store = new FakeStore(fixtures)): EvalContext {
  return { from: T0, until: T0 + 600, now: T0 + 600, store, maxSeriesPerTarget: 100, ...over };
}

async function run(target: string, over: Partial<EvalContext> = {}): Promise<TimeSeries[]> {
  return evaluateTarget(parseTarget(target), ctx(over));
}

const vals = (s: TimeSeries): (number | null)[] => Array.from(s.values, (v) => (Number.isNaN(v) ? null : v));

test('a glob fetches leaves sorted by name, remembering the path expression', async () => {
  const r = await run('a.*.cpu');
  assert.deepEqual(
    r.map((s) => [s.name, s.pathExpression, s.start, s.end, s.step, s.length]),
    [
      ['a.x.cpu', 'a.*.cpu', T0 + 60, T0 + 660, 60, 10],
      ['a.y.cpu', 'a.*.cpu', T0 + 60, T0 + 660, 60, 10],
    ],
  );
  assert.deepEqual(r[0]!.tags, { name: 'a.x.cpu' });
});

test('branches are not series; unknown paths give an empty list', async () => {
  assert.deepEqual(await run('a.*'), []);
  assert.deepEqual(await run('nothing.here'), []);
  assert.deepEqual(await run('sumSeries(nothing.here)'), []);
});

test('mismatched steps are consolidated to the lcm before combining', async () => {
  const [s] = await run('sumSeries(a.x.cpu, b.z.mem)');
  assert.equal(s!.step, 300);
  assert.equal(s!.name, 'sumSeries(a.x.cpu,b.z.mem)');
  // a.x.cpu averaged over 5 points (61..65 → 63, …) plus b.z.mem's own value
  assert.equal(s!.values[0], (61 + 62 + 63 + 64 + 65) / 5 + 130);
});

test('seriesByTag resolves through the tag index and names series canonically', async () => {
  const r = await run("seriesByTag('name=cpu','dc=~e')");
  assert.deepEqual(
    r.map((s) => [s.name, s.pathExpression, s.tags]),
    [['cpu;dc=eu;host=h1', "seriesByTag('name=cpu','dc=~e')", { name: 'cpu', dc: 'eu', host: 'h1' }]],
  );
  const g = await run("groupByTags(seriesByTag('name=cpu'), 'sum', 'dc')");
  assert.deepEqual(
    g.map((s) => s.name),
    ['cpu;dc=eu', 'cpu;dc=us'],
  );
  await assert.rejects(run("seriesByTag('dc!=eu')"), (e: unknown) => e instanceof ExprEvalError && e.status === 400);
  await assert.rejects(run('seriesByTag(a.b)'), (e: unknown) => e instanceof ExprEvalError && e.status === 400);
});

test('a literal tagged name is fetched directly', async () => {
  const r = await run('cpu;host=h2;dc=us');
  assert.deepEqual(
    r.map((s) => s.name),
    ['cpu;dc=us;host=h2'],
  );
});

test('bad arguments and unknown functions are 400', async () => {
  for (const t of ['nope(a.x.cpu)', 'scale(a.x.cpu)', 'scale(a.x.cpu, "x")', 'movingAverage(a.x.cpu, 1.5)', 'summarize(a.x.cpu, "5m")', 'alias(a.x.cpu, "n", 3)', 'scale(1, 2)', 'highest(a.*.cpu, 1, "bogus")', 'scale(a.x.cpu, factor=2, zzz=1)', 'aliasSub(a.x.cpu, "(", "x")',
    // Python's `%` refuses these newNames (graphite-web: a 500 TypeError)
    "aliasQuery(a.x.cpu, 'x', 'y', 'static')", "aliasQuery(a.x.cpu, 'x', 'y', '%s and %d')", "aliasQuery(a.x.cpu, 'x', 'y', '%(v)s')"]) {
    await assert.rejects(run(t), (e: unknown) => e instanceof ExprEvalError && e.status === 400, t);
  }
});

test('keyword arguments bind by name', async () => {
  const [s] = await run('scale(seriesList=a.x.cpu, factor=3)');
  assert.equal(s!.name, 'scale(a.x.cpu,3)');
  const [t] = await run('summarize(a.x.cpu, "5min", func="max")');
  assert.equal(t!.name, 'summarize(a.x.cpu, "5min", "max")');
});

test('maxSeriesPerTarget: a glob or a result over the limit is 422', async () => {
  await assert.rejects(run('a.*.cpu', { maxSeriesPerTarget: 1 }), (e: unknown) => e instanceof ExprEvalError && e.status === 422);
  await assert.rejects(run('group(a.x.cpu, a.y.cpu)', { maxSeriesPerTarget: 1 }), (e: unknown) => e instanceof ExprEvalError && e.status === 422);
  assert.equal((await run('sumSeries(a.x.cpu, a.y.cpu)', { maxSeriesPerTarget: 1 })).length, 1);
});

test('a passed deadline aborts with 422', async () => {
  await assert.rejects(run('a.x.cpu', { deadline: Date.now() - 1 }), (e: unknown) => e instanceof ExprEvalError && e.status === 422);
});

test('timeShift re-fetches the shifted range and relabels it', async () => {
  const store = new FakeStore(fixtures);
  const [s] = await evaluateTarget(parseTarget('timeShift(a.x.cpu, "10min")'), ctx({}, store));
  assert.equal(s!.name, 'timeShift(a.x.cpu, "-10min")');
  assert.equal(s!.start, T0 + 60);
  assert.deepEqual(vals(s!).slice(0, 3), [51, 52, 53]);
  assert.equal(store.fetchCalls, 2);
});

test('movingAverage looks back before the range', async () => {
  const [s] = await run('movingAverage(a.x.cpu, 3)');
  assert.equal(s!.name, 'movingAverage(a.x.cpu,3)');
  assert.equal(s!.start, T0 + 60);
  assert.deepEqual(vals(s!).slice(0, 2), [(58 + 59 + 60) / 3, (59 + 60 + 61) / 3]);
});

test('template() and template[...] request parameters', async () => {
  assert.equal((await run('template(a.$1.cpu, "x")'))[0]!.name, 'a.x.cpu');
  assert.equal((await run('template(a.$h.cpu, h="x")', { templateArgs: { h: 'y' } }))[0]!.name, 'a.y.cpu');
  assert.equal((await run('template(scale(a.x.cpu, $f), f=2)'))[0]!.name, 'scale(a.x.cpu,2)');
});

test('setXFilesFactor applies to later aggregation in the same target', async () => {
  const [loose] = await run('averageSeries(a.y.cpu, b.z.mem)');
  const [strict] = await run('averageSeries(xFilesFactor(a.y.cpu, 1), b.z.mem)');
  assert.ok(loose && strict);
  assert.equal(Number.isNaN(loose.values[0]!), false);
  // a.y.cpu has a null in the first 5-minute bucket: with xFilesFactor 1 the bucket is null, and
  // the request-level factor (now 1) then nulls the half-empty row
  assert.equal(Number.isNaN(strict.values[0]!), true);
});

test('Grafana: constantLine(100) and the aliasSub refId wrapper', async () => {
  const [c] = await run('constantLine(100)');
  assert.deepEqual([c!.name, c!.start, c!.end, c!.step, vals(c!)], ['100.0', T0, T0 + 600, 300, [100, 100, 100]]);
  const r = await run('aliasSub(sumSeries(a.*.cpu), "(^.*$)", "\\1 A")');
  assert.equal(r[0]!.name, 'sumSeries(a.*.cpu) A');
});

test('events() counts annotations per second of the range', async () => {
  const store = new FakeStore(fixtures, [
    { id: 1, when: T0 + 10, what: 'deploy', tags: ['deploy', 'web'], data: '' },
    { id: 2, when: T0 + 10, what: 'deploy', tags: ['deploy'], data: '' },
    { id: 3, when: T0 + 500, what: 'x', tags: ['other'], data: '' },
  ]);
  const [all] = await evaluateTarget(parseTarget('events("*")'), ctx({ events: store.events! }, store));
  assert.equal(all!.name, 'events("*")');
  assert.equal(all!.step, 1);
  assert.equal(all!.values[10], 2);
  assert.equal(all!.values[500], 1);
  assert.ok(Number.isNaN(all!.values[11]!));
  const [dep] = await evaluateTarget(parseTarget('events("deploy", "web")'), ctx({ events: store.events! }, store));
  assert.equal(dep!.name, 'events("deploy", "web")');
  assert.equal(dep!.values[10], 1);
  const [none] = await run('events("deploy")');
  assert.equal(none!.values.every(Number.isNaN), true);
});

test('inputs are never mutated by functions', async () => {
  const store = new FakeStore(fixtures);
  const c = ctx({}, store);
  const r = await evaluateTarget(parseTarget('group(a.x.cpu, scale(a.x.cpu, 2), alias(a.x.cpu, "z"))'), c);
  assert.deepEqual(
    r.map((s) => [s.name, s.values[0]]),
    [
      ['a.x.cpu', 61],
      ['scale(a.x.cpu,2)', 122],
      ['z', 61],
    ],
  );
});

test('a path named twice in one target is fetched once', async () => {
  const store = new FakeStore(fixtures);
  const r = await evaluateTarget(parseTarget('asPercent(a.*.cpu, sumSeries(a.*.cpu))'), ctx({}, store));
  assert.equal(r.length, 2);
  assert.equal(store.fetchCalls, 1);
});

test('functions refuse (422) to generate absurdly long series', async () => {
  const long = { from: T0 - 5 * 365 * 86400, until: T0 };
  for (const t of ['summarize(a.x.cpu, "1s")', 'timeFunction("t", 1)', 'events("*")', 'timeStack(a.x.cpu, "1h", 0, 100000)']) {
    await assert.rejects(run(t, long), (e: unknown) => e instanceof ExprEvalError && e.status === 422, t);
  }
});

test('generated series and second uses of data are charged to the request point budget before allocation', async () => {
  const over = (e: unknown) => e instanceof ExprEvalError && e.status === 422 && /more than \d+ datapoints \(hitcount\(\)\)/.test(e.message);
  // 2 series × 600 one-second buckets: each below the per-series limit, together over the budget
  await assert.rejects(run('sumSeries(hitcount(a.*.cpu, "1s"))', { pointBudget: new PointBudget(1000) }), over);
  const roomy = new PointBudget(2000);
  assert.equal((await run('sumSeries(hitcount(a.*.cpu, "1s"))', { pointBudget: roomy }))[0]!.length, 600);
  assert.equal(roomy.charged, 1200);
  // the budget is the request's: a second target spends what the first left
  await assert.rejects(run('hitcount(a.*.cpu, "1s")', { pointBudget: roomy }), over);
  // the first use of fetched data is the store's own array; each further use is a charged copy
  const copies = new PointBudget(25);
  assert.equal((await run('sumSeries(a.x.cpu, a.x.cpu, a.x.cpu)', { pointBudget: copies }))[0]!.values[0], 3 * 61);
  assert.equal(copies.charged, 20);
  await assert.rejects(run('sumSeries(a.x.cpu, a.x.cpu, a.x.cpu, a.x.cpu)', { pointBudget: new PointBudget(25) }), /more than 25 datapoints \(a second use of a\.x\.cpu\)/);
  await assert.rejects(run('summarize(a.*.cpu, "1s")', { pointBudget: new PointBudget(1000) }), /\(summarize\(\)\)/);
  await assert.rejects(run('smartSummarize(a.*.cpu, "1s")', { pointBudget: new PointBudget(1000) }), /\(smartSummarize\(\)\)/);
  await assert.rejects(run('group(identity("a"), identity("b"))', { pointBudget: new PointBudget(15) }), /\(identity\(\)\)/);
  await assert.rejects(run('group(timeFunction("a", 1), timeFunction("b", 1))', { pointBudget: new PointBudget(1000) }), /\(timeFunction\(\)\)/);
});

test('every function, called with wrong or odd arguments, fails only with ExprEvalError', async () => {
  const { functionDescriptions } = await import('./index.js');
  const argSets = ['', 'a.x.cpu', 'a.*.cpu', 'a.x.cpu, 2', 'a.x.cpu, -1', 'a.x.cpu, 0', 'a.x.cpu, "x"', 'a.x.cpu, "5min"', 'a.*.cpu, 1, "sum"', '"x"', '3', 'a.x.cpu, a.y.cpu', 'nothing.*', 'nothing.*, 1', 'a.*.cpu, "avg", 1, 2', 'a.x.cpu, none', 'a.x.cpu, inf', 'a.x.cpu, true',
    'a.*.cpu, "x", "y"', 'a.x.cpu, 1e308', 'a.x.cpu, -1e308', 'a.*.cpu, 1, 2, 3', 'a.x.cpu, "(", "x"', "seriesByTag('name=cpu'), 'sum', 'dc'",
    'a.x.cpu, 99999999', 'a.x.cpu, "-1h"', 'a.*.cpu, a.*.cpu', 'b.z.mem, "1d", "median", true', 'a.x.cpu, 2, "1h", "10min"', 'group(a.x.cpu, b.z.mem), 0'];
  for (const name of Object.keys(functionDescriptions())) {
    for (const args of argSets) {
      const target = `${name}(${args})`;
      try {
        const r = await run(target);
        for (const s of r) assert.equal(typeof s.name, 'string', target);
      } catch (err) {
        assert.ok(err instanceof ExprEvalError, `${target}: ${String((err as Error).stack)}`);
      }
    }
  }
});

test('time zone aware functions: timeShift alignDst, smartSummarize alignTo, hitcount alignment', async () => {
  const JULY = Date.UTC(2023, 6, 15, 12) / 1000;
  const hourly: FixtureSeries = { name: 'h.v', start: JULY - 400 * 86400, step: 3600, values: Array.from({ length: 500 * 24 }, (_, i) => i) };
  const store = new FakeStore([hourly]);
  const c = { from: JULY, until: JULY + 6 * 3600, now: JULY + 6 * 3600, store, maxSeriesPerTarget: 10, tz: 'Europe/Berlin', serverTz: 'Europe/Berlin' };
  const [plain] = await evaluateTarget(parseTarget('timeShift(h.v, "180d")'), c);
  const [aligned] = await evaluateTarget(parseTarget('timeShift(h.v, "180d", true, true)'), c);
  // July is summer time in Berlin, mid-January is not: the aligned copy is fetched an hour later
  assert.equal(aligned!.values[0]! - plain!.values[0]!, 1);
  // graphite-web asks the server's zone (TIME_ZONE), not the request's tz
  // graphite-web's callers name the Python argument (alignDST); its params list says alignDst
  const [byPyName] = await evaluateTarget(parseTarget('timeShift(h.v, "180d", alignDST=true)'), c);
  const [byParamName] = await evaluateTarget(parseTarget('timeShift(h.v, "180d", alignDst=True)'), c);
  assert.deepEqual(byPyName!.values.slice(0, 3), aligned!.values.slice(0, 3));
  assert.deepEqual(byParamName!.values.slice(0, 3), aligned!.values.slice(0, 3));
  await assert.rejects(evaluateTarget(parseTarget('timeShift(h.v, "180d", alignDst=true, alignDST=true)'), c), /Unexpected key word arguments: alignDST/);
  const [utc] = await evaluateTarget(parseTarget('timeShift(h.v, "180d", true, true)'), { ...c, serverTz: undefined });
  assert.equal(utc!.values[0], plain!.values[0]);

  const [sum] = await evaluateTarget(parseTarget('smartSummarize(h.v, "1d", "sum", "days")'), c);
  // Berlin midnight of July 15 is 22:00 UTC on July 14
  assert.equal(sum!.start, Date.UTC(2023, 6, 14, 22) / 1000 + 3600);
  const [hc] = await evaluateTarget(parseTarget('hitcount(h.v, "1d", true)'), { ...c, from: JULY + 1800 });
  assert.equal(hc!.step, 86400);
});

test('stacked() totals are shared by the targets of one request', async () => {
  const requestState = new Map<string, unknown>();
  const [a] = await run('stacked(a.x.cpu)', { requestState });
  const [b] = await run('stacked(a.x.cpu)', { requestState });
  assert.equal(a!.values[0], 61);
  assert.equal(b!.values[0], 122);
  const [c] = await run('stacked(a.x.cpu)');
  assert.equal(c!.values[0], 61);
  // a named stack, by the Python argument name graphite-web's callers use, and by the params one
  const named = new Map<string, unknown>();
  const [d] = await run("stacked(a.x.cpu, stackName='s')", { requestState: named });
  const [e] = await run("stacked(a.x.cpu, stack='s')", { requestState: named });
  const [f] = await run('stacked(seriesLists=a.x.cpu)', { requestState: named });
  assert.deepEqual([d!.values[0], e!.values[0], f!.values[0]], [61, 122, 61]);
});

test('the path expressions of a target are prefetched concurrently', async () => {
  const store = new FakeStore(fixtures);
  let inFlight = 0;
  let maxInFlight = 0;
  const slow: typeof store.fetch = async (names, from, until) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return FakeStore.prototype.fetch.call(store, names, from, until);
  };
  store.fetch = slow;
  const r = await evaluateTarget(parseTarget('divideSeries(a.x.cpu, sumSeries(a.y.cpu, b.z.mem))'), ctx({}, store));
  assert.equal(r[0]!.name, 'divideSeries(a.x.cpu,sumSeries(a.y.cpu,b.z.mem))');
  assert.equal(maxInFlight, 3);
});

test('a prefetch that fails after evaluation already failed is no unhandled rejection', async () => {
  let unhandled = 0;
  const onUnhandled = (): void => {
    unhandled++;
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    await assert.rejects(run('group(scale(a.x.cpu), a.*.cpu)', { maxSeriesPerTarget: 1 }), (e: unknown) => e instanceof ExprEvalError && e.status === 400);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(unhandled, 0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('holtWintersAberration pairs each point with the band at its time when the bootstrap comes from a coarser archive', async () => {
  // like whisper: the last 2 h at 60 s, older data only at 600 s; a steady 10 with one spike of 100
  const steady = (n: number, spikeAt = -1) => Array.from({ length: n }, (_, i) => (i === spikeAt ? 100 : 10));
  const fine = new FakeStore([{ name: 'hw.m', start: T0 - 7200, step: 60, values: steady(130, 7200 / 60 - 30) }]);
  const coarse = new FakeStore([{ name: 'hw.m', start: T0 - 9 * 86400, step: 600, values: steady(9 * 144 + 2) }]);
  const store = {
    find: (p: string) => fine.find(p),
    fetch: (names: readonly string[], from: number, until: number) => (T0 + 600 - from > 7200 ? coarse : fine).fetch(names, from, until),
  };
  const [s] = await evaluateTarget(parseTarget("holtWintersAberration(hw.m,3,'1d','1h')"), ctx({ from: T0 - 3600, until: T0 }, store as never));
  assert.equal(s!.step, 60);
  const spikeAt = (T0 - 30 * 60 - s!.start) / 60;
  const v = vals(s!);
  assert.ok(v[spikeAt]! > 50, `spike at index ${spikeAt}: ${v[spikeAt]}`);
  v.forEach((x, i) => {
    if (i !== spikeAt) assert.equal(x, 0, `index ${i}`);
  });
});

test("a negative n cuts as Python's list[:n]: all but the last |n| (highest*, lowest*, mostDeviant)", async () => {
  assert.deepEqual((await run('highestAverage(a.*.cpu,-1)')).map((s) => s.name), ['a.y.cpu']);
  assert.deepEqual((await run('lowestAverage(a.*.cpu,-1)')).map((s) => s.name), ['a.x.cpu']);
  assert.deepEqual(await run('highest(a.*.cpu,-2)'), []);
});

test('functions over 200,000 series answer (no spread of every series into one call: it overflowed the stack)', async () => {
  const many: FixtureSeries[] = Array.from({ length: 200_000 }, (_, i) => ({ name: `big.s${i}`, start: T0, step: 60, values: [i % 7, null, 1] }));
  const store = new FakeStore(many);
  const big = (target: string) => evaluateTarget(parseTarget(target), ctx({ maxSeriesPerTarget: 200_000, until: T0 + 180 }, store));
  assert.equal((await big('removeBetweenPercentile(big.*, 90)')).length > 0, true);
  assert.equal((await big('movingAverage(big.*, 2)')).length, 200_000);
  assert.equal((await big('transformNull(big.s1, 0, referenceSeries=big.*)')).length, 1);
});

test('tag keys __proto__ and constructor are tags like any other', async () => {
  const store = new FakeStore([{ name: 'pp;__proto__=evil;k=v', start: T0 - 3600, step: 60, values: Array.from({ length: 120 }, () => 1) }, { name: 'a.b.c', start: T0 - 3600, step: 60, values: Array.from({ length: 120 }, () => 2) }]);
  const [s] = await evaluateTarget(parseTarget("seriesByTag('name=pp')"), ctx({}, store));
  assert.equal(JSON.stringify(s!.tags), '{"name":"pp","__proto__":"evil","k":"v"}');
  const aliased = await evaluateTarget(parseTarget("aliasByTags(seriesByTag('name=pp'), '__proto__', 'constructor')"), ctx({}, store));
  // graphite-web: a missing tag is an empty node
  assert.deepEqual(aliased.map((x) => x.name), ['evil.']);
  assert.deepEqual((await evaluateTarget(parseTarget('aliasByTags(a.b.c, "constructor", "toString")'), ctx({}, store))).map((x) => x.name), ['.']);
  const grouped = await evaluateTarget(parseTarget("groupByTags(group(seriesByTag('name=pp'), a.b.c), 'sum', 'constructor')"), ctx({}, store));
  assert.deepEqual(grouped.map((x) => x.name), ['sum;constructor=']);
});
