import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../core/runtime/runtime.js';
import { parseConfigText, readConfigFile } from '../../core/config/load.js';
import { builtinPlugins } from '../../plugins/index.js';
import { ErrorCode } from '../../core/index.js';
import { REPO_ROOT } from '../helpers/carbonado.js';

async function problem(raw: unknown): Promise<{ message: string; code: string }> {
  try {
    await validateConfig(raw, { plugins: builtinPlugins, file: 'test.yaml' });
  } catch (err) {
    return { message: (err as Error).message, code: (err as { code: string }).code };
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

const KNOWN_INPUTS = builtinPlugins.filter((m) => m.kind === 'input').map((m) => m.name).sort().join(', ');

const BAD: Array<[string, unknown, string]> = [
  ['port out of range', { inputs: { carbon: { type: 'carbon_line', port: 70000 } } }, 'test.yaml: inputs.carbon (carbon_line): /port must be <= 65535'],
  ['port as a string', { inputs: { carbon: { type: 'carbon_line', port: '2003' } } }, 'test.yaml: inputs.carbon (carbon_line): /port must be integer'],
  ['unknown option', { inputs: { carbon: { type: 'carbon_line', prot: 1 } } }, 'test.yaml: inputs.carbon (carbon_line): /prot: unknown key'],
  ['missing type', { inputs: { carbon: { port: 2003 } } }, 'test.yaml: inputs.carbon: /type is required'],
  ['unknown plugin', { inputs: { carbon: { type: 'carbon_lin' } } }, `test.yaml: inputs.carbon: unknown input plugin type "carbon_lin" (known: ${KNOWN_INPUTS})`],
  ['plugin under the wrong kind', { stores: { x: { type: 'carbon_line' } } }, 'test.yaml: stores.x: "carbon_line" is an input plugin; list it under inputs'],
  ['bad enum', { inputs: { b: { type: 'carbon_line', protocols: 'tcp+tcp' } } }, 'test.yaml: inputs.b (carbon_line): /protocols must be one of "tcp+udp", "tcp", "udp"'],
  [
    'unknown section',
    { bogus: 1 },
    'test.yaml: bogus: unknown section (known: http, log, selfMetrics, batch, lifecycle, query, plugins, inputs, aggregators, stores, outputs)',
  ],
  ['core enum', { log: { level: 'verbose' } }, 'test.yaml: log: /level must be one of "error", "warn", "info", "debug"'],
  ['core range', { http: { port: -1 } }, 'test.yaml: http: /port must be >= 0'],
  [
    'bad instance name',
    { inputs: { 'bad name': { type: 'carbon_line' } } },
    'test.yaml: inputs: instance name "bad name" must start with a letter or digit and hold only letters, digits, _ or -',
  ],
  ['dangling query store', { query: { store: 'nope' } }, 'test.yaml: query.store: "nope" is not a store instance (stores: none)'],
  ['not a mapping', [], 'test.yaml: the config must be a mapping of sections (http, inputs, stores, …)'],
  [
    'two instances on one port',
    { inputs: { a: { type: 'carbon_line', port: 2003 }, b: { type: 'carbon_line', host: '127.0.0.1', port: 2003, protocols: 'tcp' } } },
    'test.yaml: inputs.b: tcp port 2003 on 127.0.0.1 is already claimed by inputs.a',
  ],
  ['an input on the HTTP port', { http: { port: 2003 }, inputs: { a: { type: 'carbon_line', port: 2003, protocols: 'tcp' } } }, 'test.yaml: inputs.a: tcp port 2003 on 0.0.0.0 is already claimed by http'],
];

for (const [what, raw, message] of BAD) {
  test(`bad config: ${what}`, async () => {
    const p = await problem(raw);
    assert.equal(p.message, message);
    assert.equal(p.code, ErrorCode.CONFIG_INVALID);
  });
}

test('bad config: two stores claiming one directory', async () => {
  const fixture = join(REPO_ROOT, 'test/fixtures/plugins/file-sink-store.mjs');
  const p = await problem({ plugins: [fixture], stores: { a: { type: 'file_sink_store', path: '/tmp/x/out' }, b: { type: 'file_sink_store', path: '/tmp/x/out' } } });
  assert.equal(p.message, 'test.yaml: stores.b: file /tmp/x/out is already claimed by stores.a');
});

test('bad config: a third-party plugin that cannot be loaded', async () => {
  const p = await problem({ plugins: ['./does/not/exist.mjs'] });
  assert.equal(p.code, ErrorCode.PLUGIN_LOAD);
  assert.match(p.message, /^test\.yaml: plugins: cannot load "\.\/does\/not\/exist\.mjs": /);
});

test('several problems are reported together', async () => {
  const p = await problem({ inputs: { a: { type: 'carbon_line', port: 70000, x: 1 }, b: { type: 'nope' } } });
  assert.deepEqual(p.message.split('\n'), [
    'test.yaml: inputs.a (carbon_line): /x: unknown key',
    'test.yaml: inputs.a (carbon_line): /port must be <= 65535',
    `test.yaml: inputs.b: unknown input plugin type "nope" (known: ${KNOWN_INPUTS})`,
  ]);
});

test('valid: two carbon_line instances on different ports, defaults applied, frozen', async () => {
  const { config } = await validateConfig(
    { inputs: { a: { type: 'carbon_line', port: 2003 }, b: { type: 'carbon_line', port: 2013, protocols: 'udp' } } },
    { plugins: builtinPlugins, file: 'test.yaml' },
  );
  assert.equal(config.inputs.a!.host, '0.0.0.0');
  assert.equal(config.inputs.a!.maxLineBytes, 16384);
  assert.equal(config.inputs.b!.protocols, 'udp');
  assert.equal(config.http.port, 8080);
  assert.equal(config.selfMetrics.intervalSecs, 60);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.inputs.a));
});

test('YAML and JSON files; parse errors name the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-cfg-'));
  writeFileSync(join(dir, 'a.yaml'), 'inputs:\n  c: {type: carbon_line}\n');
  writeFileSync(join(dir, 'a.json'), '{"inputs": {"c": {"type": "carbon_line"}}}');
  assert.deepEqual(await readConfigFile(join(dir, 'a.yaml')), await readConfigFile(join(dir, 'a.json')));
  assert.throws(() => parseConfigText('inputs: [\n', 'x.yaml'), (e: Error & { code: string }) => e.code === ErrorCode.CONFIG_PARSE && e.message.startsWith('x.yaml: not valid YAML'));
  // one line: the problem, where, and the line itself (or the end of the file), no dangling colon
  const message = (text: string): string => {
    try {
      parseConfigText(text, 'y.yaml');
    } catch (e) {
      return (e as Error).message;
    }
    return 'parsed';
  };
  assert.equal(message('a: 1\na: 2\n'), 'y.yaml: not valid YAML: Map keys must be unique at line 2, column 1: "a: 2"');
  assert.equal(message('inputs:\n  carbon:\n    type: carbon_line\n   port: 2003\n'), 'y.yaml: not valid YAML: All mapping items must start at the same column at line 4, column 1: "   port: 2003"');
  assert.match(message('inputs: {carbon: {type: carbon_line\n'), /^y\.yaml: not valid YAML: .* at line 2, column 1 \(the end of the file\)$/);
  await assert.rejects(readConfigFile(join(dir, 'missing.yaml')), (e: Error & { code: string }) => e.code === ErrorCode.CONFIG_READ);
});

test('the embedded default config is valid', async () => {
  const raw = await readConfigFile(join(REPO_ROOT, 'config', 'default.yaml'));
  await validateConfig(raw, { plugins: builtinPlugins, file: 'default.yaml' });
});

test('a plugin\'s own validate() problems are reported like schema errors', async () => {
  const checked = {
    kind: 'input' as const,
    name: 'checked',
    since: '0.1.0',
    description: 'test',
    schema: { type: 'object', additionalProperties: false, properties: { re: { type: 'string', default: '', description: 'a regex' } } },
    validate: (o: { re: string }) => {
      try {
        new RegExp(o.re);
        return [];
      } catch {
        return [`/re is not a valid regular expression`];
      }
    },
    create: () => {
      throw new Error('not started in this test');
    },
  };
  await assert.rejects(validateConfig({ inputs: { x: { type: 'checked', re: '(' } } }, { plugins: [...builtinPlugins, checked as never], file: 'test.yaml' }), {
    message: 'test.yaml: inputs.x (checked): /re is not a valid regular expression',
  });
});

test("whisper persistThreads: 'auto' by default, a count, or a clear error naming the key", async () => {
  const { persistThreadCount } = await import('../../plugins/stores/whisper/whisper-store.js');
  const { config } = await validateConfig({ stores: { w: { type: 'whisper', dataDir: join(tmpdir(), 'w-auto') } } }, { plugins: builtinPlugins, file: 'test.yaml' });
  assert.equal(config.stores.w!.persistThreads, 'auto');
  await validateConfig({ stores: { w: { type: 'whisper', dataDir: join(tmpdir(), 'w-three'), persistThreads: 3 } } }, { plugins: builtinPlugins, file: 'test.yaml' });
  for (const bad of ['many', 0, 17]) {
    const p = await problem({ stores: { w: { type: 'whisper', dataDir: join(tmpdir(), 'w-bad'), persistThreads: bad } } });
    assert.match(p.message, /^test\.yaml: stores\.w \(whisper\): \/persistThreads /, p.message);
  }
  assert.equal(persistThreadCount('auto', 1), 1);
  assert.equal(persistThreadCount('auto', 2), 1);
  assert.equal(persistThreadCount('auto', 3), 2);
  assert.equal(persistThreadCount('auto', 64), 2);
  assert.equal(persistThreadCount(5, 2), 5);
});
