// Every option appears in the README's configuration table with the schema's default and every
// mounted endpoint is documented, so the docs cannot drift from schema.ts and graphite-render.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import manifest from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(`${here}README.md`, 'utf8');

test('README documents every option with its default', () => {
  const props = (manifest.schema as { properties: Record<string, { default: unknown }> }).properties;
  for (const [name, p] of Object.entries(props)) {
    const shown = p.default === '' ? "''" : String(p.default);
    const row = new RegExp(`^\\| \`${name}\` \\| \`${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` \\|`, 'm');
    assert.match(readme, row, name);
  }
});

test('README documents every endpoint', () => {
  const source = readFileSync(`${here}graphite-render.ts`, 'utf8');
  for (const [, path] of source.matchAll(/\['(\/[^']+)', '/g)) assert.ok(readme.includes(`\`${path}`), path);
});
