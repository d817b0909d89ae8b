import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventBody, parseQueryTags, parseTags } from './event-input.js';

const opts = { now: 1700000000.5, unknownFields: 'reject' as const };

test('graphite-web bodies: tags as array or as a string, when defaults to now', () => {
  assert.deepEqual(parseEventBody('{"what":"Deploy","tags":["deploy","hub"],"data":"v2","when":1699999900}', opts), {
    ok: true,
    value: { what: 'Deploy', tags: ['deploy', 'hub'], data: 'v2', when: 1699999900 },
  });
  assert.deepEqual(parseEventBody('{"what":"Deploy","tags":"deploy hub deploy"}', opts), {
    ok: true,
    value: { what: 'Deploy', tags: ['deploy', 'hub'], data: '', when: 1700000000.5 },
  });
  const r = parseEventBody('{"what":"x","tags":"deploy, hub","when":"1699999900"}', opts);
  assert.ok(r.ok);
  assert.deepEqual(r.value.tags, ['deploy', 'hub']);
  assert.equal(r.value.when, 1699999900);
});

test('tag rules', () => {
  assert.deepEqual(parseTags(['a b', 'c,d', 'a']), { ok: true, value: ['a', 'b', 'c', 'd'] });
  assert.deepEqual(parseTags(''), { ok: true, value: [] });
  assert.deepEqual(parseTags(null), { ok: true, value: [] });
  assert.equal(parseTags(42).ok, false);
  assert.equal(parseTags([1]).ok, false);
  assert.equal(parseTags({ a: 1 }).ok, false);
  assert.equal(parseTags(['x'.repeat(51)]).ok, false);
  assert.equal(parseTags(['x'.repeat(50)]).ok, true);
  assert.equal(parseTags(Array.from({ length: 65 }, (_, i) => `t${i}`)).ok, false);
  assert.deepEqual(parseQueryTags('deploy hub,web  deploy'), ['deploy', 'hub', 'web']);
});

test('bad bodies are refused with a message that names the rule', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /JSON object/],
    ['not json', /JSON object/],
    ['[1,2]', /JSON object/],
    ['null', /JSON object/],
    ['{}', /"what" is required/],
    ['{"what":""}', /"what" is required/],
    ['{"what":"  "}', /"what" is required/],
    ['{"what":5}', /"what" is required/],
    [`{"what":"${'w'.repeat(256)}"}`, /at most 255/],
    ['{"what":"x","when":"yesterday"}', /"when" must be/],
    ['{"what":"x","when":true}', /"when" must be/],
    ['{"what":"x","when":-5}', /"when" must be/],
    ['{"what":"x","when":1700000000000}', /"when" must be/],
    ['{"what":"x","data":{"a":1}}', /"data" must be a string/],
    ['{"what":"x","tags":7}', /"tags" must be an array or space-separated string/],
    ['{"what":"x","tag":"deploy"}', /unknown fields: tag /],
    ['{"what":"x","<b>":1}', /^unknown fields \(/],
  ];
  for (const [body, re] of cases) {
    const r = parseEventBody(body, opts);
    assert.equal(r.ok, false, body);
    if (!r.ok) assert.match(r.error, re, body);
  }
});

test("unknownFields 'ignore' drops them as graphite-web does", () => {
  const r = parseEventBody('{"what":"x","tag":"deploy","id":7}', { ...opts, unknownFields: 'ignore' });
  assert.deepEqual(r, { ok: true, value: { what: 'x', tags: [], data: '', when: 1700000000.5 } });
});
