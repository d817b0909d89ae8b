import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCarbonRetention, parseWhisperRetention, StorageRules, StorageRulesError, IniSyntaxError } from './index.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const EXAMPLES = '/usr/share/doc/graphite-carbon/examples';

test('carbon retention parser: the reference examples', () => {
  assert.deepEqual(parseCarbonRetention('10s:6h'), [10, 2160]);
  assert.deepEqual(parseCarbonRetention('1m:7d'), [60, 10080]);
  assert.deepEqual(parseCarbonRetention('60:1440'), [60, 1440]);
  assert.deepEqual(parseCarbonRetention('1h:3y'), [3600, 26280]);
  assert.deepEqual(parseCarbonRetention('5m:30d'), [300, 8640]);
  assert.deepEqual(parseCarbonRetention(' 7s:1m '), [7, 8]); // truncated like int(60/7)
});

test('carbon refuses multi-letter units; whisper accepts prefixes', () => {
  assert.throws(() => parseCarbonRetention('1min:7d'), /Invalid unit 'min'/);
  assert.throws(() => parseCarbonRetention('1M:7d'), /Invalid precision/);
  assert.throws(() => parseCarbonRetention('60'), /precision:duration/);
  assert.throws(() => parseCarbonRetention('60:x'), /Invalid retention/);
  assert.deepEqual(parseWhisperRetention('1min:7days'), [60, 10080]);
  assert.deepEqual(parseWhisperRetention('1sec:1h'), [1, 3600]);
});

test("StatsD's recommended files load and match by suffix", async () => {
  const rules = await StorageRules.load({
    schemasFile: here('./testdata/statsd-storage-schemas.conf'),
    aggregationFile: here('./testdata/statsd-storage-aggregation.conf'),
  });
  assert.deepEqual(rules.warnings, []);
  const t = rules.match('stats.timers.api.upper_90');
  assert.deepEqual(t.archives, [[10, 2160], [60, 8640], [600, 259200]]);
  assert.equal(t.aggregationMethod, 'max');
  assert.equal(t.xFilesFactor, 0.1);
  assert.equal(rules.match('stats.timers.api.lower').aggregationMethod, 'min');
  assert.equal(rules.match('stats_counts.hits').aggregationMethod, 'sum');
  assert.equal(rules.match('stats.x.count').xFilesFactor, 0);
  const other = rules.match('collectd.cpu');
  assert.equal(other.aggregationMethod, 'average');
  assert.equal(other.xFilesFactor, 0.3);
  assert.deepEqual(other.archives, [[60, 10080]]); // carbon's implicit fallback
  assert.equal(other.schema, 'default');
});

test("carbon's shipped example files load", async (t) => {
  if (!existsSync(`${EXAMPLES}/storage-schemas.conf.example`)) return t.skip('graphite-carbon examples not installed');
  const rules = await StorageRules.load({
    schemasFile: `${EXAMPLES}/storage-schemas.conf.example`,
    aggregationFile: `${EXAMPLES}/storage-aggregation.conf.example`,
  });
  assert.deepEqual(rules.match('carbon.agents.x.cpuUsage').archives, [[60, 129600]]);
  assert.equal(rules.match('foo.min').aggregationMethod, 'min');
  assert.equal(rules.match('foo.count').aggregationMethod, 'max'); // the example's [sum] section really says max
  if (existsSync('/etc/carbon/storage-schemas.conf')) {
    const deb = await StorageRules.load({ schemasFile: '/etc/carbon/storage-schemas.conf' });
    assert.deepEqual(deb.match('web.hits').archives, [[60, 1440], [300, 8640], [3600, 26280]]);
  }
});

test('patterns are unanchored searches and the first match wins', () => {
  const rules = StorageRules.build({
    schemas: [
      { name: 'a', pattern: 'cpu', retentions: '10s:1h' },
      { name: 'b', pattern: '^servers\\.', retentions: '1m:1d' },
    ],
    aggregation: [{ pattern: '(?P<kind>max)$', aggregationMethod: 'max' }],
  });
  assert.equal(rules.match('servers.web1.cpu').schema, 'a');
  assert.equal(rules.match('servers.web1.mem').schema, 'b');
  assert.equal(rules.match('a.max').aggregationMethod, 'max');
});

test('malformed files: carbon fallbacks (skip) and fatal errors', () => {
  const skip = StorageRules.build(
    {},
    ['[nopattern]', 'retentions = 60:10', '', '[noretention]', 'pattern = x', '', '[badarchives]', 'pattern = .*', 'retentions = 60:10,90:100'].join('\n'),
    ['[badxff]', 'pattern = .*', 'xFilesFactor = half'].join('\n'),
  );
  assert.equal(skip.warnings.length, 4);
  assert.match(skip.warnings.join('\n'), /missing 'pattern'/);
  assert.match(skip.warnings.join('\n'), /missing 'retentions'/);
  assert.match(skip.warnings.join('\n'), /evenly divide/);
  assert.match(skip.warnings.join('\n'), /not a number/);
  assert.deepEqual(skip.match('x').archives, [[60, 10080]]);

  assert.throws(() => StorageRules.build({}, '[a]\npattern = .*\nretentions = 1min:1d\n'), (e: Error) => e instanceof StorageRulesError && /\[a\].*Invalid unit 'min'/.test(e.message));
  assert.throws(() => StorageRules.build({}, undefined, '[a]\npattern = .*\nxFilesFactor = 2\n'), /between 0 and 1/);
  assert.throws(() => StorageRules.build({}, undefined, '[a]\npattern = .*\naggregationMethod = median\n'), /unknown aggregationMethod/);
  assert.throws(() => StorageRules.build({}, '[a]\npattern = ([\nretentions = 60:10\n'), /invalid pattern/);
  assert.throws(() => StorageRules.build({}, 'pattern = x\n'), IniSyntaxError);
  assert.throws(() => StorageRules.build({}, '[a]\n[a]\n'), /appears twice/);
});

test("patterns are Python's: leading flags, {,n} and comments as carbon compiles them", () => {
  const rules = StorageRules.build(
    {},
    '[ci]\npattern = (?i)^servers\\.\nretentions = 10s:1d\n[short]\npattern = ^a\\.{,2}b$(?#two dots at most)\nretentions = 1m:1d\n',
  );
  assert.equal(rules.match('SERVERS.web1').schema, 'ci');
  assert.equal(rules.match('a..b').schema, 'short');
  assert.equal(rules.match('a...b').schema, 'default');
  assert.throws(() => StorageRules.build({}, '[x]\npattern = ^(?i:servers)\nretentions = 10s:1d\n'), /\[x\].*only supported at the start/);
});

test('a rule file behind an inline catch-all is reported: none of its rules would ever apply', () => {
  const file = '[carbon]\npattern = ^carbon\\.\nretentions = 60:90d\n';
  const agg = '[min]\npattern = \\.min$\naggregationMethod = min\n';
  const shadowed = StorageRules.build(
    { schemas: [{ name: 'default', pattern: '.*', retentions: '10s:6h' }], schemasFile: 's.conf', aggregation: [{ name: 'all', pattern: '.*' }], aggregationFile: 'a.conf' },
    file,
    agg,
  );
  assert.equal(shadowed.warnings.length, 2, shadowed.warnings.join('\n'));
  assert.match(shadowed.warnings[0]!, /schemasFile s\.conf: none of its 1 rules is ever used: the inline schemas rule 'default'.*schemas: \[\]/);
  // the pattern as the operator wrote it, not its translation from Python (`[^\n]*`)
  assert.match(shadowed.warnings[0]!, /\(pattern "\.\*"\)/);
  assert.match(shadowed.warnings[1]!, /aggregationFile a\.conf/);
  const fine = StorageRules.build({ schemas: [{ name: 'stats', pattern: '^stats\\.', retentions: '10s:6h' }], schemasFile: 's.conf' }, file);
  assert.deepEqual(fine.warnings, []);
  assert.equal(fine.match('carbon.agents.x').schema, 'carbon');
});

test('the default rules and the JupyterHub example keep a set\'s count by its largest value, counts by their sum', async () => {
  const { DEFAULT_AGGREGATION, DEFAULT_SCHEMAS } = await import('../../stores/whisper/schema.js');
  const { readConfigFile } = await import('../../../core/config/load.js');
  const example = (await readConfigFile(fileURLToPath(new URL('../../../config/examples/jupyterhub.yaml', import.meta.url)))) as {
    stores: Record<string, { schemas?: unknown; aggregation?: unknown }>;
  };
  const hub = Object.values(example.stores).find((s) => s.aggregation !== undefined)!;
  for (const rules of [
    StorageRules.build({ schemas: DEFAULT_SCHEMAS, aggregation: DEFAULT_AGGREGATION }),
    StorageRules.build({ schemas: hub.schemas as never, aggregation: hub.aggregation as never }),
  ]) {
    // distinct members per flush: added up, the same users would count again in every flush
    assert.equal(rules.match('stats.sets.jupyterhub.active_users.count').aggregationMethod, 'max');
    assert.equal(rules.match('stats.timers.jupyterhub.spawn.count').aggregationMethod, 'sum');
    assert.equal(rules.match('stats_counts.jupyterhub.logins').aggregationMethod, 'sum');
  }
});
