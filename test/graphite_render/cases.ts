/**
 * The differential render cases: each is sent to graphite-web 1.1.8 (recorded into golden/) and to
 * carbonado, on the whisper tree of make-fixture.py. Every request pins now=NOW so the answers do not
 * depend on the wall clock.
 */
export const NOW = 1700000000;

export interface Case {
  readonly id: string;
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly params: ReadonlyArray<readonly [string, string]>;
}

const cases: Case[] = [];
const seen = new Set<string>();

function add(id: string, params: Array<[string, string]>, opts: { path?: string; method?: 'GET' | 'POST' } = {}): void {
  if (seen.has(id)) throw new Error(`duplicate case id ${id}`);
  seen.add(id);
  cases.push({ id, path: opts.path ?? '/render', method: opts.method ?? 'GET', params: [...params, ['now', String(NOW)]] });
}

/** one target, json, over the last `from` */
function r(id: string, target: string, from = '-2h', extra: Array<[string, string]> = []): void {
  add(id, [['target', target], ['from', from], ['format', 'json'], ...extra]);
}

// --- plain fetches, wildcards, nulls ---
r('leaf', 'servers.web01.cpu.user');
r('glob-star', 'servers.*.cpu.user');
r('glob-class', 'servers.web0[1-3].cpu.*');
r('glob-braces', 'servers.{web01,db01}.cpu.user');
r('glob-question', 'servers.web0?.cpu.system');
r('glob-two-levels', 'apps.*.*.count');
r('nulls', 'servers.web03.cpu.idle');
r('sparse', 'special.sparse', '-6h');
r('empty-series', 'special.empty');
r('missing', 'does.not.exist');
r('fractions', 'special.fractions', '-30min');
r('big-values', 'special.big', '-30min');
r('slow-step', 'slow.metric', '-6h');
// --- time forms ---
r('from-1h', 'servers.web01.cpu.user', '-1h');
r('from-6h', 'servers.web01.cpu.user', '-6h');
r('from-1d', 'servers.web01.cpu.user', '-1d');
r('from-2d-archive2', 'servers.web01.cpu.user', '-2d');
r('from-7d', 'servers.web01.cpu.user', '-7d');
r('from-20d-archive3', 'servers.web01.cpu.user', '-20d');
r('from-5min', 'servers.web01.cpu.user', '-5min');
r('from-90s', 'servers.web01.cpu.user', '-90s');
r('from-1h30min', 'servers.web01.cpu.user', '-1h30min');
r('from-noon', 'servers.web01.cpu.user', 'noon');
r('from-midnight', 'servers.web01.cpu.user', 'midnight');
r('from-teatime-yesterday', 'servers.web01.cpu.user', 'teatimeyesterday');
r('from-yyyymmdd', 'servers.web01.cpu.user', '20231114');
r('from-hhmm-date', 'servers.web01.cpu.user', '21:00_20231114');
r('from-mmddyy', 'servers.web01.cpu.user', '11/14/23');
r('from-weekday', 'servers.web01.cpu.user', 'monday');
r('from-month-day', 'servers.web01.cpu.user', 'nov14');
r('from-now-minus', 'servers.web01.cpu.user', 'now-45min');
r('from-epoch', 'servers.web01.cpu.user', '1699990000', [['until', '1699993600']]);
r('until-relative', 'servers.web01.cpu.user', '-3h', [['until', '-2h']]);
r('until-before-from', 'servers.web01.cpu.user', '-1h', [['until', '-3h']]);
r('tz-berlin', 'servers.web01.cpu.user', 'midnight', [['tz', 'Europe/Berlin']]);
r('tz-unknown', 'servers.web01.cpu.user', 'midnight', [['tz', 'Nowhere/Special']]);
r('until-future', 'servers.web01.cpu.user', '-10min', [['until', '+1h']]);
// --- maxDataPoints and consolidation ---
for (const mdp of ['1', '2', '3', '7', '50', '100', '300', '1000', '5000']) r(`mdp-${mdp}`, 'servers.web01.cpu.user', '-1d', [['maxDataPoints', mdp]]);
r('mdp-nulls', 'servers.web03.cpu.idle', '-1d', [['maxDataPoints', '37']]);
r('mdp-multi', 'servers.*.cpu.system', '-12h', [['maxDataPoints', '20']]);
r('mdp-mixed-steps', 'group(slow.metric,servers.web01.cpu.user)', '-6h', [['maxDataPoints', '25']]);
r('mdp-xff', 'special.sparse', '-1d', [['maxDataPoints', '50'], ['xFilesFactor', '0.1']]);
r('mdp-xff-high', 'servers.web03.cpu.idle', '-1d', [['maxDataPoints', '100'], ['xFilesFactor', '0.9']]);
r('mdp-not-digits', 'servers.web01.cpu.user', '-1h', [['maxDataPoints', '10.5']]);
for (const f of ['sum', 'max', 'min', 'first', 'last', 'average']) r(`consolidateBy-${f}`, `consolidateBy(servers.web01.cpu.user,'${f}')`, '-1d', [['maxDataPoints', '60']]);
r('cumulative', 'cumulative(apps.api.requests.count)', '-1d', [['maxDataPoints', '24']]);
r('noNullPoints', 'servers.web03.cpu.idle', '-1h', [['noNullPoints', '1']]);
r('noNullPoints-all-null', 'special.sparse', '-10min', [['noNullPoints', '1']]);
// --- Alias ---
r('alias', "alias(servers.web01.cpu.user,'x')");
r('aliasByMetric', 'aliasByMetric(servers.*.cpu.user)');
r('aliasByNode', 'aliasByNode(servers.*.cpu.user,1)');
r('aliasByNode-2', 'aliasByNode(servers.*.cpu.*,1,3)');
r('aliasByNode-neg', 'aliasByNode(servers.*.cpu.user,-3)');
r('aliasSub', "aliasSub(servers.*.cpu.user,'web(\\d+)','host \\1')");
r('aliasSub-grafana', 'aliasSub(servers.web01.cpu.user, "(^.*$)", "\\1 A")');
r('aliasSub-grafana-func', 'aliasSub(sumSeries(servers.*.cpu.user), "(^.*$)", "\\1 B")');
// --- Combine ---
for (const f of ['sum', 'average', 'max', 'min', 'median', 'stddev', 'count', 'range', 'multiply', 'last', 'diff', 'avg_zero']) {
  r(`aggregate-${f}`, `aggregate(servers.*.cpu.system,'${f}')`, '-1h');
}
r('aggregate-nulls-avg_zero', "aggregate(servers.web03.cpu.*,'avg_zero')", '-1h');
r('asPercent', 'asPercent(servers.*.cpu.user)');
r('asPercent-series', 'asPercent(servers.web01.cpu.user,servers.web02.cpu.user)');
r('asPercent-number', 'asPercent(servers.*.cpu.user,100)');
r('pct', 'pct(servers.*.cpu.system)');
r('averageSeries', 'averageSeries(servers.*.cpu.user)');
r('avg', 'avg(servers.*.cpu.user)');
r('countSeries', 'countSeries(servers.*.cpu.*)');
r('diffSeries', 'diffSeries(servers.web01.cpu.user,servers.web02.cpu.user)');
r('divideSeries', 'divideSeries(servers.*.cpu.user,servers.web01.cpu.system)');
r('divideSeriesLists', 'divideSeriesLists(servers.web0[12].cpu.user,servers.web0[12].cpu.system)');
r('group', 'group(servers.web01.cpu.user,apps.*.requests.count)');
r('groupByNode', "groupByNode(servers.*.cpu.*,3,'sum')");
r('groupByNode-default', 'groupByNode(servers.*.cpu.user,1)');
r('groupByNodes', "groupByNodes(servers.*.cpu.*,'max',1,3)");
r('maxSeries', 'maxSeries(servers.*.cpu.user)');
r('minSeries', 'minSeries(servers.*.cpu.user)');
r('multiplySeries', 'multiplySeries(servers.web01.cpu.system,servers.web02.cpu.system)');
r('percentileOfSeries', 'percentileOfSeries(servers.*.cpu.user,75)');
r('percentileOfSeries-interp', 'percentileOfSeries(servers.*.cpu.user,75,true)');
r('sum', 'sum(servers.*.cpu.user)');
r('sumSeries', 'sumSeries(servers.*.cpu.user)');
r('sumSeries-nulls', 'sumSeries(servers.web03.cpu.*)');
r('sumSeries-mixed-steps', 'sumSeries(slow.metric,servers.web01.cpu.user)', '-6h');
r('sumSeriesWithWildcards', 'sumSeriesWithWildcards(servers.*.cpu.user,1)');
// --- Transform / Calculate ---
r('absolute', 'absolute(special.negative)');
r('derivative', 'derivative(servers.web01.net.bytes_in)', '-10h');
r('hitcount', "hitcount(apps.api.requests.count,'5min')");
r('hitcount-1h', "hitcount(apps.api.requests.count,'1h')", '-1d');
// calendar alignment on the request's wall clock (tz), date arguments in the server's zone
r('hitcount-1d-align-tz', "hitcount(apps.api.requests.count,'1d',true)", '-3d', [['tz', 'America/Los_Angeles']]);
r('hitcount-1h-align-tz', "hitcount(apps.api.requests.count,'1h',true)", '-6h', [['tz', 'Asia/Kolkata']]);
r('smartSummarize-days-tz', "smartSummarize(apps.api.requests.count,'1d','sum','days')", '-3d', [['tz', 'Europe/Berlin']]);
r('smartSummarize-hours-tz', "smartSummarize(apps.api.requests.count,'1h','sum','hours')", '-6h', [['tz', 'Asia/Kolkata']]);
r('integral', 'integral(special.sparse)', '-6h');
r('invert', 'invert(servers.web01.cpu.system)');
r('keepLastValue', 'keepLastValue(servers.web03.cpu.idle)');
r('keepLastValue-limit', 'keepLastValue(special.sparse,3)', '-6h');
r('log', 'log(servers.web01.cpu.user)');
r('log-base2', 'log(servers.web01.cpu.user,2)');
r('nonNegativeDerivative', 'nonNegativeDerivative(servers.web01.net.bytes_in)', '-10h');
r('nonNegativeDerivative-max', 'nonNegativeDerivative(servers.web01.net.bytes_in,50000)', '-10h');
r('offset', 'offset(special.negative,5)');
r('perSecond', 'perSecond(servers.*.net.bytes_in)', '-10h');
r('scale', 'scale(servers.web01.cpu.user,0.5)');
r('scaleToSeconds', 'scaleToSeconds(apps.api.requests.count,1)');
r('summarize', "summarize(apps.api.requests.count,'10min')", '-6h');
r('summarize-max', "summarize(apps.api.latency.p99,'1h','max')", '-1d');
r('summarize-align', "summarize(apps.api.requests.count,'10min','sum',true)", '-6h');
r('summarize-avg', "summarize(servers.web03.cpu.idle,'15min','avg')", '-6h');
r('timeShift', "timeShift(servers.web01.cpu.user,'1h')");
r('timeShift-neg', "timeShift(servers.web01.cpu.user,'-30min')");
r('timeShift-1d', "timeShift(servers.web01.cpu.user,'1d')");
r('transformNull', 'transformNull(servers.web03.cpu.idle)');
r('transformNull-value', 'transformNull(servers.web03.cpu.idle,-1)');
r('movingAverage', 'movingAverage(servers.web01.cpu.user,5)');
r('movingAverage-interval', "movingAverage(servers.web01.cpu.user,'10min')");
r('movingAverage-nulls', 'movingAverage(servers.web03.cpu.idle,10)');
// every series without a single slot: graphite-web answers [] (`if any(data)`)
r('all-series-empty', 'movingAverage(servers.web01.cpu.user,2)', '-10s');
r('movingMax', 'movingMax(servers.web01.cpu.user,5)');
r('movingMedian', 'movingMedian(servers.web01.cpu.user,5)');
r('movingMin', "movingMin(servers.web01.cpu.user,'5min')");
r('movingSum', 'movingSum(apps.api.requests.count,10)');
r('movingWindow', "movingWindow(servers.web01.cpu.user,'5min','median')");
r('nPercentile', 'nPercentile(servers.web01.cpu.user,90)');
// --- Filter / Sorting ---
r('exclude', "exclude(servers.*.cpu.user,'web0[12]')");
r('grep', "grep(servers.*.cpu.user,'db')");
r('highest', "highest(servers.*.cpu.user,2,'average')");
r('highestAverage', 'highestAverage(servers.*.cpu.user,2)');
r('highestCurrent', 'highestCurrent(servers.*.cpu.user,1)');
r('highestMax', 'highestMax(servers.*.cpu.user,3)');
r('limit', 'limit(servers.*.cpu.user,2)');
r('lowestAverage', 'lowestAverage(servers.*.cpu.system,2)');
r('lowestCurrent', 'lowestCurrent(servers.*.cpu.system,2)');
r('removeEmptySeries', 'removeEmptySeries(special.*)', '-10min');
r('removeAboveValue', 'removeAboveValue(servers.web01.cpu.user,30)');
r('removeBelowValue', 'removeBelowValue(servers.web01.cpu.user,20)');
r('sortBy', "sortBy(servers.*.cpu.user,'max',true)");
r('sortByMaxima', 'sortByMaxima(servers.*.cpu.system)');
r('sortByName', 'sortByName(servers.*.cpu.*)');
r('sortByTotal', 'sortByTotal(servers.*.cpu.user)');
// --- Special ---
r('constantLine', 'constantLine(100)');
r('constantLine-float', 'constantLine(1.5)', '-1d');
r('fallbackSeries-missing', 'fallbackSeries(does.not.exist,constantLine(1))');
r('fallbackSeries-present', 'fallbackSeries(servers.web01.cpu.user,constantLine(1))');
r('threshold', "threshold(42,'limit','red')");
r('pipe', "servers.web01.cpu.user|scale(2)|alias('x')");
r('nested', "alias(sumSeries(scale(servers.*.cpu.user,2)),'total')");
r('nested-deep', 'absolute(offset(scale(movingAverage(servers.web01.cpu.user,3),-1),10))');
// --- several targets, methods, formats ---
add('multi-target', [['target', 'servers.web01.cpu.user'], ['target', 'sumSeries(apps.*.requests.count)'], ['target', 'constantLine(3)'], ['from', '-1h'], ['format', 'json']]);
// one stack across the targets of a request (Grafana sends each stacked query as a target)
add('stacked-across-targets', [
  ['target', 'stacked(servers.web01.cpu.user)'], ['target', 'stacked(servers.web02.cpu.user)'],
  ['target', "stacked(servers.db01.cpu.user,'other')"], ['target', "stacked(servers.web03.cpu.user,'other')"],
  ['from', '-30min'], ['format', 'json'],
]);
// names built with Python's % and '%.2f' (ties round to even there)
for (const [i, fmt] of ['%s', '%d%%', 'val %5.1f', '%e', '%r', '%.1f', '%+08.2f', '%g load'].entries()) {
  r(`aliasQuery-format-${i}`, `aliasQuery(servers.web0[1-4].cpu.user,'user','system','${fmt}')`, '-30min');
}
r('aggregateLine-no-values', "aggregateLine(special.empty,'avg')", '-10min');
r('cactiStyle-ties', 'cactiStyle(group(constantLine(0.125),constantLine(2.675),constantLine(1e21)))', '-10min');
r('cactiStyle-si-units', "cactiStyle(servers.*.cpu.system,'si','b')", '-1h');
r('legendValue-count', "legendValue(servers.web0[12].cpu.system,'count','avg','countSeries','last')", '-1h');
r('legendValue-si-ties', "legendValue(group(constantLine(0.125),servers.web01.cpu.system),'avg','count','binary')", '-1h');
add('post-form', [['target', 'servers.web01.cpu.user'], ['target', 'servers.db01.cpu.user'], ['from', '-1h'], ['until', 'now'], ['format', 'json'], ['maxDataPoints', '20']], { method: 'POST' });
add('post-grafana', [['target', 'aliasSub(servers.*.cpu.user, "(^.*$)", "\\1 A")'], ['from', '-6h'], ['until', 'now'], ['format', 'json'], ['maxDataPoints', '640']], { method: 'POST' });
add('target-brackets', [['target[]', 'servers.web01.cpu.user'], ['target[]', 'servers.web02.cpu.user'], ['from', '-10min'], ['format', 'json']]);
add('csv', [['target', 'servers.web0[12].cpu.user'], ['target', 'special.sparse'], ['from', '-30min'], ['format', 'csv']]);
add('csv-tz', [['target', 'servers.web01.cpu.user'], ['from', '-10min'], ['format', 'csv'], ['tz', 'America/New_York']]);
add('raw', [['target', 'servers.web0[12].cpu.user'], ['target', 'special.sparse'], ['target', 'special.fractions'], ['from', '-30min'], ['format', 'raw']]);
add('raw-legacy-flag', [['target', 'servers.web01.cpu.user'], ['from', '-10min'], ['rawData', '1']]);
add('pickle', [['target', 'servers.web0[12].cpu.user'], ['target', 'sumSeries(servers.*.cpu.user)'], ['from', '-30min'], ['format', 'pickle'], ['local', '1']]);
add('pickle-cluster', [['target', 'servers.web01.cpu.user'], ['from', String(NOW - 3600)], ['until', String(NOW)], ['format', 'pickle'], ['local', '1'], ['noCache', '1']]);
// --- errors (compared by status only) ---
r('err-bad-unit', 'servers.web01.cpu.user', '-5m');
r('err-bad-from', 'servers.web01.cpu.user', 'foo');
r('err-unknown-function', 'noSuchFunction(servers.web01.cpu.user)');
r('err-empty-range', 'servers.web01.cpu.user', '-1h', [['until', '-1h']]);
// --- find / expand ---
const find = (id: string, params: Array<[string, string]>, method: 'GET' | 'POST' = 'GET') => add(id, params, { path: '/metrics/find', method });
find('find-root', [['query', '*']]);
find('find-servers', [['query', 'servers.*']]);
find('find-leaves', [['query', 'servers.web01.cpu.*']]);
find('find-braces', [['query', 'servers.{web01,web02}.cpu.u*']]);
find('find-wildcards', [['query', 'servers.*'], ['wildcards', '1']]);
find('find-post', [['query', 'apps.*.*'], ['from', '-6h'], ['until', 'now']], 'POST');
find('find-completer', [['query', 'servers.web0'], ['format', 'completer']]);
find('find-json', [['query', 'special.*'], ['format', 'json']]);
find('find-nodelist', [['query', 'servers.*.cpu.*'], ['format', 'nodelist'], ['position', '1']]);
find('find-leavesOnly', [['query', 'servers.web01.*.*'], ['leavesOnly', '1']]);
find('find-missing', [['query', 'nothing.here.*']]);
find('err-find-no-query', []);
add('expand', [['query', 'servers.*.cpu'], ['query', 'apps.*']], { path: '/metrics/expand' });
add('expand-grouped', [['query', 'servers.web0[12].cpu.*'], ['query', 'slow.*'], ['groupByExpr', '1']], { path: '/metrics/expand' });
add('expand-leaves', [['query', 'servers.web01.*'], ['query', 'servers.web01.*.*'], ['leavesOnly', '1']], { path: '/metrics/expand' });
add('index-json', [], { path: '/metrics/index.json' });

export const CASES: readonly Case[] = cases;

/** the tagged series of `make-fixture.py OUT tagged`, registered in graphite-web's TagDB before recording */
export const TAGGED = [
  'disk.used;datacenter=dc1;rack=a1;server=web01',
  'disk.used;datacenter=dc1;rack=a2;server=web02',
  'disk.used;datacenter=dc2;rack=b1;server=db01',
  'cpu.load;datacenter=dc1;server=web01',
  'cpu.load;datacenter=dc2;server=db01',
];

/** Tag API and seriesByTag cases, recorded from graphite-web with its SQL TagDB (golden/tags-cases.json). */
export const TAG_CASES: readonly Case[] = (() => {
  const out: Case[] = [];
  const t = (id: string, path: string, params: Array<[string, string]> = [], method: 'GET' | 'POST' = 'GET') =>
    out.push({ id, path, method, params: [...params, ['now', String(NOW)]] });
  const render = (id: string, target: string, extra: Array<[string, string]> = []) =>
    t(id, '/render', [['target', target], ['from', '-30min'], ['format', 'json'], ...extra]);
  t('tagSeries', '/tags/tagSeries', [['path', 'disk.used;server=web01;rack=a1;datacenter=dc1']], 'POST');
  t('tagMultiSeries', '/tags/tagMultiSeries', [['path', 'cpu.load;server=web01;datacenter=dc1'], ['path', 'disk.used;rack=b1;datacenter=dc2;server=db01']], 'POST');
  t('tagMultiSeries-brackets', '/tags/tagMultiSeries', [['path[]', 'cpu.load;server=db01;datacenter=dc2']], 'POST');
  t('err-tagSeries-get', '/tags/tagSeries', [['path', 'a.b;c=d']]);
  t('err-tagSeries-nopath', '/tags/tagSeries', [], 'POST');
  t('findSeries-name', '/tags/findSeries', [['expr', 'name=disk.used']]);
  t('findSeries-regex', '/tags/findSeries', [['expr', 'server=~web']]);
  t('findSeries-anchored', '/tags/findSeries', [['expr', 'server=~eb']]);
  t('findSeries-two', '/tags/findSeries', [['expr', 'datacenter=dc1'], ['expr', 'server!=web01']]);
  t('findSeries-notregex', '/tags/findSeries', [['expr', 'name=~disk'], ['expr', 'rack!=~a']]);
  t('findSeries-missing-tag', '/tags/findSeries', [['expr', 'name=cpu.load'], ['expr', 'rack=']]);
  t('findSeries-brackets', '/tags/findSeries', [['expr[]', 'datacenter=dc2']], 'POST');
  t('err-findSeries-empty-only', '/tags/findSeries', [['expr', 'rack=']]);
  t('err-findSeries-none', '/tags/findSeries');
  t('tags', '/tags');
  t('tags-filter', '/tags', [['filter', 'ra']]);
  t('tags-limit', '/tags', [['limit', '2']]);
  t('tag-server', '/tags/server');
  t('tag-server-filter', '/tags/server', [['filter', 'web']]);
  t('tag-name', '/tags/name');
  t('tag-unknown', '/tags/nosuchtag');
  t('ac-tags', '/tags/autoComplete/tags');
  t('ac-tags-prefix', '/tags/autoComplete/tags', [['tagPrefix', 's']]);
  t('ac-tags-expr', '/tags/autoComplete/tags', [['expr', 'name=disk.used']]);
  t('ac-tags-expr-prefix', '/tags/autoComplete/tags', [['expr', 'datacenter=dc1'], ['tagPrefix', 'r']]);
  t('ac-tags-limit', '/tags/autoComplete/tags', [['limit', '2']]);
  t('ac-tags-post', '/tags/autoComplete/tags', [['expr', 'server=db01'], ['from', '-6h'], ['until', 'now']], 'POST');
  t('ac-values', '/tags/autoComplete/values', [['tag', 'server']]);
  t('ac-values-prefix', '/tags/autoComplete/values', [['tag', 'server'], ['valuePrefix', 'w']]);
  t('ac-values-expr', '/tags/autoComplete/values', [['tag', 'rack'], ['expr', 'datacenter=dc1']]);
  t('ac-values-name', '/tags/autoComplete/values', [['tag', 'name']]);
  t('ac-values-name-expr', '/tags/autoComplete/values', [['tag', 'name'], ['expr', 'server=web01']]);
  t('ac-values-limit', '/tags/autoComplete/values', [['tag', 'datacenter'], ['limit', '1']]);
  t('err-ac-values-notag', '/tags/autoComplete/values');
  render('sbt-name', "seriesByTag('name=disk.used')");
  render('sbt-two', "seriesByTag('name=~disk','datacenter=dc1')");
  render('sbt-ne', "seriesByTag('server!=web01','name=cpu.load')");
  render('sbt-sum', "sumSeries(seriesByTag('server=web01'))");
  render('sbt-groupByTags', "groupByTags(seriesByTag('name=disk.used'),'sum','datacenter')");
  render('sbt-groupByTags-2', "groupByTags(seriesByTag('name=~.+'),'max','datacenter','name')");
  render('sbt-aliasByTags', "aliasByTags(seriesByTag('name=disk.used'),'server','rack')");
  render('sbt-aliasByTags-node', "aliasByTags(seriesByTag('name=cpu.load'),1,'datacenter')");
  render('sbt-aliasSub-grafana', 'aliasSub(seriesByTag(\'name=cpu.load\'), "(^.*$)", "\\1 A")');
  render('sbt-mdp', "seriesByTag('name=disk.used')", [['maxDataPoints', '7']]);
  render('sbt-none', "seriesByTag('name=nothing')");
  render('err-sbt-all-empty', "seriesByTag('rack=','datacenter!=~dc')");
  render('tagged-canonical-path', 'disk.used;datacenter=dc1;rack=a2;server=web02');
  render('tagged-unsorted-path', 'disk.used;rack=a2;server=web02;datacenter=dc1');
  t('delSeries', '/tags/delSeries', [['path', 'no.such;x=y']], 'POST');
  return out;
})();
