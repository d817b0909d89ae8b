import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InstanceStats, Logger, SampleType } from '../../../core/index.js';
import { JupyterhubRules, routeGroup } from './jupyterhub-rules.js';
import { LineProcessor } from './line-processor.js';
import { CompiledRule, stripAnsi } from './rules.js';
import type { LogRuleOptions } from './options.js';

const FIXTURES = new URL('../../../test/jupyterhub/fixtures/', import.meta.url);

interface Aggregate {
  counters: Record<string, number>;
  timers: Record<string, number[]>;
  sets: Record<string, string[]>;
  gauges: Record<string, number>;
}

function run(lines: string[], ruleSets: 'jupyterhub'[], rules: LogRuleOptions[] = []) {
  const agg: Aggregate = { counters: {}, timers: {}, sets: {}, gauges: {} };
  const stats = new InstanceStats('inputs.t');
  const logs: string[] = [];
  const log = new Logger('inputs.t', 'debug', 'text', { write: (l: string) => void logs.push(l) });
  const sink = {
    add(name: string, type: SampleType, value: number, rate: number, member?: string) {
      assert.equal(rate, 1);
      if (type === SampleType.Counter) agg.counters[name] = (agg.counters[name] ?? 0) + value;
      else if (type === SampleType.Timer) (agg.timers[name] ??= []).push(value);
      else if (type === SampleType.Set) (agg.sets[name] ??= []).push(member!);
      else agg.gauges[name] = value;
    },
  };
  const p = new LineProcessor(
    ruleSets.map(() => new JupyterhubRules('jupyterhub')),
    rules.map((r) => new CompiledRule(r)),
    sink,
    stats,
    log,
  );
  for (const l of lines) p.line(l);
  return { agg, stats, logs };
}

test('every JupyterHub line form of the fixture gives exactly the expected samples', () => {
  const text = readFileSync(new URL('hub.log', FIXTURES), 'utf8');
  const expected = JSON.parse(readFileSync(new URL('hub.expected.json', FIXTURES), 'utf8'));
  const lines = text.split('\n');
  lines.pop(); // after the final newline
  const { agg, stats, logs } = run(lines, ['jupyterhub']);
  assert.deepEqual(agg.counters, expected.counters);
  assert.deepEqual(agg.timers, expected.timers);
  for (const k of Object.keys(agg.sets)) agg.sets[k]!.sort();
  assert.deepEqual(agg.sets, expected.sets);
  assert.equal(stats.received, expected.received);
  assert.equal(stats.counters.get('lines_unmatched'), expected.lines_unmatched);
  assert.equal(stats.counters.get('lines_continuation'), expected.lines_continuation);
  assert.equal(stats.droppedTotal(), 0);
  // unmatched lines are counted, not logged one by one
  assert.equal(logs.length, 0);
});

test('ANSI colour and charset sequences are stripped', () => {
  assert.equal(stripAnsi('\x1b[32m[I 2024]\x1b(B\x1b[m msg'), '[I 2024] msg');
  assert.equal(stripAnsi('plain'), 'plain');
});

test('route groups, with and without a base_url prefix', () => {
  const cases: Array<[string, string]> = [
    ['/hub/api/users', 'hub_api'],
    ['/hub/api', 'hub_api'],
    ['/prefix/hub/login?next=%2F', 'hub_login'],
    ['/hub/oauth_callback?code=[secret]', 'hub_login'],
    ['/hub/spawn-pending/alice', 'hub_spawn'],
    ['/hub/spawn', 'hub_spawn'],
    ['/hub/logout', 'hub_logout'],
    ['/hub/home', 'hub_home'],
    ['/hub/', 'hub_other'],
    ['/hub', 'hub_other'],
    ['/user/alice/lab', 'user'],
    ['/user/alice/files/hub/api/x', 'user'],
    ['/services/announcement/', 'services'],
    ['/', 'other'],
    ['/favicon.ico', 'other'],
    ['/hubble/api', 'other'],
  ];
  for (const [uri, group] of cases) assert.equal(routeGroup(uri), group, uri);
});

test('operator rules: templates, values, scale, sets, gauges; bad values counted', () => {
  const rules: LogRuleOptions[] = [
    { name: 'cull', pattern: 'Culling server (?<user>\\S+) idle for (?<secs>\\d+)s', metric: 'hub.cull.{user}', type: 'timer', valueGroup: 'secs', scale: 1000 },
    { name: 'cullcount', pattern: 'Culling server', metric: 'hub.culled', type: 'counter', valueGroup: '', scale: 1 },
    { name: 'mem', pattern: 'mem=(?<mb>\\S+)MB', metric: 'host.mem_mb', type: 'gauge', valueGroup: 'mb', scale: 1 },
    { name: 'who', pattern: 'user=(?<u>\\S+)', metric: 'host.users', type: 'set', valueGroup: 'u', scale: 1 },
  ];
  const { agg, stats } = run(
    ['Culling server al.ice/x idle for 30s', 'mem=512MB', 'mem=lotsMB', 'user=a', 'user=b', 'nothing here'],
    [],
    rules,
  );
  assert.deepEqual(agg.timers, { 'hub.cull.al_ice_x': [30000] });
  assert.deepEqual(agg.counters, { 'hub.culled': 1 });
  assert.deepEqual(agg.gauges, { 'host.mem_mb': 512 });
  assert.deepEqual(agg.sets, { 'host.users': ['a', 'b'] });
  assert.equal(stats.dropped.get('bad_value'), 1);
  assert.equal(stats.counters.get('lines_unmatched'), 1);
  assert.equal(stats.counters.get('rule_hits.cull'), 1);
});

test('operator rules are checked when compiled: bad regex, unknown group, missing value group', () => {
  const base: LogRuleOptions = { name: 'r', pattern: '(?<a>x)', metric: 'm.{a}', type: 'counter', valueGroup: '', scale: 1 };
  assert.throws(() => new CompiledRule({ ...base, pattern: '(' }), /invalid pattern/);
  assert.throws(() => new CompiledRule({ ...base, metric: 'm.{b}' }), /no such named group/);
  assert.throws(() => new CompiledRule({ ...base, valueGroup: 'zz' }), /not a named group/);
  assert.throws(() => new CompiledRule({ ...base, type: 'timer' }), /needs a valueGroup/);
});

test('a template that yields an invalid name is dropped and counted, never thrown', () => {
  const rules: LogRuleOptions[] = [{ name: 'r', pattern: 'x(?<v>\\d*)', metric: '{v}..bad', type: 'counter', valueGroup: '', scale: 1 }];
  const { agg, stats } = run(['x1'], [], rules);
  assert.deepEqual(agg.counters, {});
  assert.equal(stats.dropped.get('node_empty'), 1);
});
