#!/usr/bin/env node
// Runs every *.test.ts under core/, plugins/, cli/ and test/ with node's built-in runner (TypeScript
// loaded by tsx), then the *.soak.test.ts files alone. Extra arguments narrow the run to files
// whose path contains one of them.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const roots = ['core', 'plugins', 'cli', 'test'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const r of roots) walk(join(root, r));
const filters = process.argv.slice(2);
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
// Soak tests (*.soak.test.ts) measure loss at a documented load; they run after the others, one
// at a time, so that the rest of the suite is not part of the load they measure.
const soak = selected.filter((f) => f.endsWith('.soak.test.ts'));
const rest = selected.filter((f) => !f.endsWith('.soak.test.ts'));
function run(files, n) {
  if (files.length === 0) return 0;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${n}`, '--test-reporter=spec', ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CARBONADO_TEST: '1' },
  });
  return res.status ?? 1;
}
const a = run(rest, concurrency);
const b = run(soak, '1');
process.exit(a || b);
