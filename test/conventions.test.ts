import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { builtinPlugins } from '../plugins/index.js';
import { REPO_ROOT } from './helpers/carbonado.js';

const KIND_DIRS = { inputs: 'input', aggregators: 'aggregator', stores: 'store', outputs: 'output' } as const;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const pluginFolders = Object.entries(KIND_DIRS).flatMap(([dir, kind]) =>
  existsSync(join(REPO_ROOT, 'plugins', dir))
    ? readdirSync(join(REPO_ROOT, 'plugins', dir))
        .filter((n) => statSync(join(REPO_ROOT, 'plugins', dir, n)).isDirectory())
        .map((name) => ({ dir, kind, name, path: join(REPO_ROOT, 'plugins', dir, name) }))
    : [],
);

test('every plugin folder is a registered manifest of the same name and kind', () => {
  for (const f of pluginFolders) {
    const m = builtinPlugins.find((p) => p.name === f.name);
    assert.ok(m, `plugins/${f.dir}/${f.name} is not listed in plugins/index.ts`);
    assert.equal(m.kind, f.kind, `${f.name} lives under ${f.dir} but is a ${m.kind} plugin`);
  }
  assert.equal(builtinPlugins.length, pluginFolders.length, 'plugins/index.ts lists a plugin without a folder');
});

test('every plugin has index.ts, a README documenting every option, and tests', () => {
  const allTests = walk(REPO_ROOT + '/test').concat(walk(REPO_ROOT + '/plugins')).filter((p) => p.endsWith('.test.ts'));
  for (const f of pluginFolders) {
    assert.ok(existsSync(join(f.path, 'index.ts')), `${f.name}: index.ts`);
    const readme = join(f.path, 'README.md');
    assert.ok(existsSync(readme), `${f.name}: README.md`);
    const text = readFileSync(readme, 'utf8');
    const m = builtinPlugins.find((p) => p.name === f.name)!;
    const props = Object.keys(((m.schema as { properties?: object }).properties ?? {}) as object);
    for (const p of props) assert.ok(text.includes(`\`${p}\``), `${f.name}: README does not document option \`${p}\``);
    const own = allTests.filter((t) => t.startsWith(f.path) || readFileSync(t, 'utf8').includes(f.name));
    assert.ok(own.length > 0, `${f.name}: no test mentions it`);
  }
});

test("every option's table row in the plugin README shows the schema's default", () => {
  for (const f of pluginFolders) {
    const rows = readFileSync(join(f.path, 'README.md'), 'utf8').split('\n').filter((l) => l.startsWith('| `'));
    const m = builtinPlugins.find((p) => p.name === f.name)!;
    const props = ((m.schema as { properties?: Record<string, { default?: unknown }> }).properties ?? {}) as Record<string, { default?: unknown }>;
    for (const [k, v] of Object.entries(props)) {
      const d = v.default;
      // scalars only: empty strings, lists and rule sets are written in prose ('', "", StatsD's rules)
      if (!(typeof d === 'number' || typeof d === 'boolean' || (typeof d === 'string' && d !== ''))) continue;
      const row = rows.find((l) => l.split('|')[1]!.includes(`\`${k}\``));
      if (row === undefined) continue; // documented in a section of its own (checked above: named)
      assert.ok(row.split('|')[2]!.includes(`\`${String(d)}\``), `${f.name}: README gives \`${k}\` the default ${row.split('|')[2]!.trim()}, the schema ${JSON.stringify(d)}`);
    }
  }
});

test('every option has a description', () => {
  for (const m of builtinPlugins) {
    const s = m.schema as { properties?: Record<string, { description?: string }> };
    for (const [k, v] of Object.entries(s.properties ?? {})) assert.ok(v.description, `${m.name}: option ${k} has no description`);
  }
});

test('the core names no protocol or file format', () => {
  const offenders: string[] = [];
  for (const file of walk(join(REPO_ROOT, 'core')).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(file, 'utf8');
    for (const word of ['statsd', 'whisper', 'pickle', 'sqlite']) {
      if (new RegExp(word, 'i').test(text)) offenders.push(`${relative(REPO_ROOT, file)} mentions ${word}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('no module-level mutable state in core/ and plugins/', () => {
  const offenders: string[] = [];
  for (const dir of ['core', 'plugins']) {
    for (const file of walk(join(REPO_ROOT, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^(export )?(let|var) /.test(line)) offenders.push(`${relative(REPO_ROOT, file)}:${i + 1}`);
        });
    }
  }
  assert.deepEqual(offenders, []);
});
