// Tests spawn carbonado from a transpiled copy of the sources (test/helpers/from-source.ts): the
// copy must follow every edit, or a test would run yesterday's code and pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mirrorSources } from '../helpers/from-source.js';

test('the transpiled copy of the sources follows edits of a source and of tsconfig.json; tests are left out', async () => {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-mirror-'));
  const mirror = join(root, 'cache');
  const run = (): string => {
    mirrorSources(root, mirror, ['bin']);
    const r = spawnSync(process.execPath, [join(mirror, 'bin', 'main.js')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const past = async (path: string, secondsAgo: number): Promise<void> => {
    const t = Date.now() / 1000 - secondsAgo;
    await utimes(path, t, t);
  };
  try {
    await mkdir(join(root, 'bin'));
    await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', strict: true } }));
    await writeFile(join(root, 'bin', 'main.ts'), "import { word } from './word.js';\nconst w: string = word;\nconsole.log(w);\n");
    await writeFile(join(root, 'bin', 'word.ts'), "export const word: string = 'one';\n");
    await writeFile(join(root, 'bin', 'word.test.ts'), 'this is not typescript');
    for (const f of ['tsconfig.json', 'bin/main.ts', 'bin/word.ts']) await past(join(root, f), 60);
    assert.equal(run(), 'one');

    // a source saved after its copy was made
    await writeFile(join(root, 'bin', 'word.ts'), "export const word: string = 'two';\n");
    assert.equal(run(), 'two');

    // compiler options changed after the copies were made: every copy made again (a class field
    // initialised by the constructor's parameter property shows which semantics were used)
    await writeFile(join(root, 'bin', 'word.ts'), "class A { b = this.a * 2; constructor(public a: number) {} }\nexport const word: string = String(new A(2).b);\n");
    await past(join(root, 'bin', 'word.ts'), 30);
    assert.equal(run(), 'NaN'); // ES2022 class fields run before parameter properties are set
    await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', strict: true, useDefineForClassFields: false } }));
    assert.equal(run(), '4');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
