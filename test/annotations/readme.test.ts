// Each option of the two annotation plugins appears in its README's table with the schema's
// default, so the docs cannot drift from schema.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/carbonado.js';
import sqliteEvents from '../../plugins/stores/sqlite_events/index.js';
import grafanaAnnotations from '../../plugins/outputs/grafana_annotations/index.js';

interface Prop {
  default?: unknown;
  description?: string;
  properties?: Record<string, Prop>;
}

function rows(props: Record<string, Prop>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(props).flatMap(([k, p]): Array<[string, unknown]> =>
    p.properties ? rows(p.properties, `${prefix}${k}.`) : [[`${prefix}${k}`, p.default]],
  );
}

function shown(v: unknown): string {
  return v === '' ? '""' : Array.isArray(v) ? JSON.stringify(v) : String(v);
}

for (const [manifest, dir] of [
  [sqliteEvents, 'plugins/stores/sqlite_events'],
  [grafanaAnnotations, 'plugins/outputs/grafana_annotations'],
] as const) {
  test(`${manifest.name}: README documents every option with its default`, () => {
    const readme = readFileSync(join(REPO_ROOT, dir, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- options:start'), readme.indexOf('<!-- options:end'));
    const schema = manifest.schema as { properties: Record<string, Prop> };
    const documented = [...table.matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]);
    const options = rows(schema.properties);
    assert.deepEqual(documented, options.map(([k]) => k));
    for (const [k, dflt] of options) {
      assert.ok(table.includes(`| \`${k}\` | \`${shown(dflt)}\` |`), `${k} default ${shown(dflt)}`);
    }
    for (const p of Object.values(schema.properties)) assert.ok(p.description && 'default' in p);
  });
}

test('the annotations example config is valid', async () => {
  const { readConfigFile } = await import('../../core/config/load.js');
  const { validateConfig } = await import('../../core/runtime/runtime.js');
  const { builtinPlugins } = await import('../../plugins/index.js');
  const file = join(REPO_ROOT, 'config', 'examples', 'annotations.yaml');
  const { config } = await validateConfig(await readConfigFile(file), { plugins: builtinPlugins, file });
  assert.equal((config.outputs['annotations'] as unknown as { push: { queueMax: number } }).push.queueMax, 1000);
});
