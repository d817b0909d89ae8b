import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ExpositionError, parseExposition } from './exposition.js';
import { graphiteName } from './series-name.js';

const body = readFileSync(new URL('../../../test/jupyterhub/fixtures/hub-metrics.txt', import.meta.url), 'utf8');

test('parses a JupyterHub-like body: histograms, escapes, blanks, timestamps, special values', () => {
  const s = parseExposition(body);
  assert.equal(s.length, 14);
  assert.deepEqual(s[0], {
    name: 'jupyterhub_request_duration_seconds_bucket',
    labels: [['code', '200'], ['handler', 'jupyterhub.handlers.pages.HomeHandler'], ['le', '0.005'], ['method', 'GET']],
    value: 3,
    timestampMs: undefined,
  });
  assert.deepEqual(s[8]!.labels, [['le', '+Inf'], ['status', 'failure']]);
  assert.equal(s[8]!.value, 2);
  assert.deepEqual(s[9], {
    name: 'weird',
    labels: [['path', 'C:\\dir\\file'], ['msg', 'say "hi"\nbye'], ['empty', ''], ['name', 'x']],
    value: 1,
    timestampMs: 1714564800000,
  });
  assert.ok(Number.isNaN(s[11]!.value));
  assert.equal(s[12]!.value, -Infinity);
});

test('Graphite names: sorted tags, sanitised values, empty labels dropped, name tag renamed', () => {
  const s = parseExposition(body);
  assert.equal(
    graphiteName('', s[0]!),
    'jupyterhub_request_duration_seconds_bucket;code=200;handler=jupyterhub.handlers.pages.HomeHandler;le=0.005;method=GET',
  );
  assert.equal(graphiteName('', s[9]!), 'weird;exported_name=x;msg=say_"hi"_bye;path=C:\\dir\\file');
  assert.equal(graphiteName('prom.', s[4]!), 'prom.jupyterhub_running_servers');
  assert.equal(graphiteName('', s[13]!), 'jupyterhub_recording_rule_ok');
  assert.equal(graphiteName('', { name: 'm', labels: [['v', '~x']], value: 1, timestampMs: undefined }), 'm;v=_x');
});

test('strict: one malformed line fails the body with its line number', () => {
  const bad: Array<[string, RegExp]> = [
    ['m 1\nm{a="1" 2\n', /line 2: expected , or }/],
    ['m{a="1} 2\n', /unterminated/],
    ['m{a="\\x"} 2\n', /invalid escape/],
    ['m{a="1",a="2"} 2\n', /duplicate label/],
    ['m one\n', /invalid value/],
    ['m 1 2 3\n', /expected "value/],
    ['m 1 12.5\n', /invalid timestamp/],
    ['9m 1\n', /expected a metric name/],
    ['# TYPE m bogus\n', /unknown metric type/],
    ['# TYPE m gauge\n# TYPE m gauge\n', /second TYPE/],
    ['m{1a="x"} 1\n', /expected a label name/],
    ['m{a="1"}2\n', /expected a blank/],
    ['m 1', /truncated/],
    ['m\n', /expected "value/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parseExposition(text), (e: unknown) => e instanceof ExpositionError && re.test(e.message), JSON.stringify(text));
  }
  assert.deepEqual(parseExposition(''), []);
});
