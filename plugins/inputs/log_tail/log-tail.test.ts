import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { testContext, until, type TestContext } from '../../../test/jupyterhub/context.js';
import { FileFollower } from './follower.js';
import plugin from './index.js';
import type { LogTailOptions } from './options.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'log-tail-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const REQ = (code: number, ms: number) => `[I 2024-05-01 12:00:00.200 JupyterHub log:192] ${code} GET /hub/home (alice@10.0.0.5) ${ms.toFixed(2)}ms\n`;

function options(o: Partial<LogTailOptions>): LogTailOptions {
  return {
    files: [],
    startAt: 'end',
    stateFile: '',
    stateFlushIntervalMs: 100,
    pollIntervalMs: 50,
    maxLineBytes: 65536,
    ruleSets: ['jupyterhub'],
    prefix: 'jupyterhub',
    rules: [],
    ...o,
  };
}

function requestTimes(t: TestContext): number[] {
  return t.samples.filter((s) => s.name === 'jupyterhub.request_time').map((s) => s.value);
}

test('starts at the end by default, then follows appended lines (and waits for a line to end)', async () => {
  const file = join(dir, 'a.log');
  await writeFile(file, REQ(200, 1) + REQ(200, 2));
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ files: [file] }));
  await inst.start();
  try {
    await appendFile(file, REQ(200, 3) + REQ(404, 4).slice(0, 30));
    await until(() => requestTimes(t).length === 1, 5000, 'first appended line');
    assert.deepEqual(requestTimes(t), [3]);
    await appendFile(file, REQ(404, 4).slice(30));
    await until(() => requestTimes(t).length === 2, 5000, 'completed line');
    assert.deepEqual(requestTimes(t), [3, 4]);
  } finally {
    await inst.stop();
  }
});

test('startAt beginning reads existing content; a file created later is read from its start', async () => {
  const file = join(dir, 'b.log');
  const later = join(dir, 'b-later.log');
  await writeFile(file, REQ(200, 1));
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ files: [file, later], startAt: 'beginning' }));
  await inst.start();
  try {
    await until(() => requestTimes(t).length === 1, 5000, 'existing line');
    await writeFile(later, REQ(200, 7) + REQ(200, 8));
    await until(() => requestTimes(t).length === 3, 5000, 'lines of the new file');
    assert.deepEqual(requestTimes(t).sort(), [1, 7, 8]);
  } finally {
    await inst.stop();
  }
});

test('survives rotation by rename (late writes to the old file included) and truncation', async () => {
  const file = join(dir, 'c.log');
  await writeFile(file, '');
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ files: [file] }));
  await inst.start();
  try {
    await appendFile(file, REQ(200, 1));
    await until(() => requestTimes(t).length === 1, 5000, 'line before rotation');
    // logrotate "create": rename, the writer still appends to the old inode, then reopens.
    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, REQ(200, 2));
    await writeFile(file, REQ(200, 3));
    await until(() => requestTimes(t).length === 3, 5000, 'lines around rotation');
    assert.deepEqual(requestTimes(t), [1, 2, 3]);
    assert.equal(t.stats.counters.get('rotations'), 1);
    // copytruncate: the file shrinks to nothing and new lines start at 0
    await truncate(file, 0);
    await until(() => t.stats.counters.get('truncations') === 1, 5000, 'truncation noticed');
    await appendFile(file, REQ(500, 4));
    await until(() => requestTimes(t).length === 4, 5000, 'line after truncation');
    assert.deepEqual(requestTimes(t), [1, 2, 3, 4]);
  } finally {
    await inst.stop();
  }
});

test('a restart resumes at the remembered offset: nothing lost, nothing twice', async () => {
  const file = join(dir, 'd.log');
  const state = join(dir, 'state', 'offsets.json');
  await writeFile(file, REQ(200, 1));
  const t1 = testContext();
  const first = plugin.create(t1.ctx, options({ files: [file], stateFile: state }));
  await first.start();
  await appendFile(file, REQ(200, 2));
  await until(() => requestTimes(t1).length === 1, 5000, 'line 2');
  await first.stop();
  const saved = JSON.parse(await readFile(state, 'utf8'));
  assert.equal(saved.files[file].offset, Buffer.byteLength(REQ(200, 1) + REQ(200, 2)));
  // written while carbonado was down, the second line incomplete
  await appendFile(file, REQ(200, 3) + REQ(200, 4).slice(0, 20));
  const t2 = testContext();
  const second = plugin.create(t2.ctx, options({ files: [file], stateFile: state }));
  await second.start();
  try {
    await until(() => requestTimes(t2).length === 1, 5000, 'line written while down');
    await appendFile(file, REQ(200, 4).slice(20));
    await until(() => requestTimes(t2).length === 2, 5000, 'line completed after restart');
    assert.deepEqual(requestTimes(t2), [3, 4]);
  } finally {
    await second.stop();
  }
  // stopped mid-line: the offset points at the start of the unfinished line
  await appendFile(file, REQ(200, 5).slice(0, 10));
  const t3 = testContext();
  const third = plugin.create(t3.ctx, options({ files: [file], stateFile: state }));
  await third.start();
  await third.stop();
  const after3 = JSON.parse(await readFile(state, 'utf8'));
  assert.equal(after3.files[file].offset, Buffer.byteLength(REQ(200, 1) + REQ(200, 2) + REQ(200, 3) + REQ(200, 4)));
});

test('a restart after a copytruncate resumes at the offset in the truncated file (nothing twice)', async () => {
  const file = join(dir, 'ct.log');
  const state = join(dir, 'state-ct', 'offsets.json');
  // more than the 256 bytes the file's fingerprint covers
  await writeFile(file, REQ(201, 1).repeat(4));
  const t1 = testContext();
  const first = plugin.create(t1.ctx, options({ files: [file], stateFile: state, startAt: 'beginning' }));
  await first.start();
  await until(() => requestTimes(t1).length === 4, 5000, 'the first lines');
  await truncate(file, 0); // logrotate's copytruncate
  await appendFile(file, REQ(202, 5));
  await until(() => requestTimes(t1).length === 5, 5000, 'the line after the truncation');
  await first.stop();
  const t2 = testContext();
  const second = plugin.create(t2.ctx, options({ files: [file], stateFile: state, startAt: 'beginning' }));
  await second.start();
  try {
    await appendFile(file, REQ(202, 6));
    await until(() => requestTimes(t2).length >= 1, 5000, 'the line after the restart');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(requestTimes(t2), [6]);
    assert.equal(t2.stats.counters.get('rotations') ?? 0, 0);
  } finally {
    await second.stop();
  }
});

test('a rotation while stopped reads the new file from its start; a corrupt state file is counted', async () => {
  const file = join(dir, 'e.log');
  const state = join(dir, 'e-state.json');
  await writeFile(file, REQ(200, 1));
  const t1 = testContext();
  const first = plugin.create(t1.ctx, options({ files: [file], stateFile: state }));
  await first.start();
  await first.stop();
  await rename(file, `${file}.1`);
  await writeFile(file, REQ(200, 9));
  const t2 = testContext();
  const second = plugin.create(t2.ctx, options({ files: [file], stateFile: state }));
  await second.start();
  await until(() => requestTimes(t2).length === 1, 5000, 'new file read');
  await second.stop();
  assert.deepEqual(requestTimes(t2), [9]);

  await writeFile(state, '{not json');
  const t3 = testContext();
  const third = plugin.create(t3.ctx, options({ files: [file], stateFile: state }));
  await third.start();
  await third.stop();
  assert.equal(t3.stats.errors.get('state_file'), 1);
});

test('over-long lines are dropped and counted; the next line is intact', async () => {
  const file = join(dir, 'f.log');
  await writeFile(file, '');
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ files: [file], maxLineBytes: 256 }));
  await inst.start();
  try {
    await appendFile(file, `${'x'.repeat(200)}`);
    await appendFile(file, `${'y'.repeat(200)}\n${REQ(200, 5)}${'z'.repeat(1000)}\n${REQ(200, 6)}`);
    await until(() => requestTimes(t).length === 2, 5000, 'lines after long ones');
    assert.deepEqual(requestTimes(t), [5, 6]);
    assert.equal(t.stats.dropped.get('line_too_long'), 2);
  } finally {
    await inst.stop();
  }
});

test('create validates: no files, bad operator rule', () => {
  const t = testContext();
  assert.throws(() => plugin.create(t.ctx, options({})), /at least one/);
  assert.throws(() => plugin.create(t.ctx, options({ files: ['/x'], prefix: 'a..b' })), /not a valid metric path/);
  assert.throws(
    () => plugin.create(t.ctx, options({ files: ['/x'], rules: [{ name: 'r', pattern: '(', metric: 'a', type: 'counter', valueGroup: '', scale: 1 }] })),
    /invalid pattern/,
  );
});

test('start/stop ten times on the same file', async () => {
  const file = join(dir, 'g.log');
  await writeFile(file, '');
  const t = testContext();
  for (let i = 0; i < 10; i++) {
    const inst = plugin.create(t.ctx, options({ files: [file] }));
    await inst.start();
    await appendFile(file, REQ(200, i));
    await until(() => requestTimes(t).length === i + 1, 5000, `line ${i}`);
    await inst.stop();
  }
  assert.deepEqual(requestTimes(t), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('a directory that does not exist yet cannot be watched: polling finds the file when it appears', async () => {
  const sub = join(dir, 'later-dir');
  const file = join(sub, 'h.log');
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ files: [file] }));
  await inst.start();
  try {
    await mkdir(sub);
    await writeFile(file, REQ(200, 11));
    await until(() => requestTimes(t).length === 1, 5000, 'line of the late file');
    assert.deepEqual(requestTimes(t), [11]);
  } finally {
    await inst.stop();
  }
});

test('a deleted file is released after a while (its disk space is not held), a new one is read whole', async () => {
  const file = join(dir, 'deleted.log');
  await writeFile(file, '');
  const t = testContext();
  const lines: string[] = [];
  const f = new FileFollower(file, { startAt: 'end', maxLineBytes: 1024, releaseDeletedMs: 100 }, undefined, (l) => lines.push(l), t.stats, t.ctx.log);
  const openFds = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const fd of await readdir('/proc/self/fd')) out.push(await readlink(`/proc/self/fd/${fd}`).catch(() => ''));
    return out.filter((p) => p.startsWith(file));
  };
  await f.poll();
  await appendFile(file, 'one\n');
  await f.poll();
  assert.equal((await openFds()).length, 1);
  await unlink(file);
  await f.poll(); // gone: kept for late writes
  assert.equal((await openFds()).length, 1);
  await new Promise((r) => setTimeout(r, 150));
  await f.poll(); // gone for longer than releaseDeletedMs
  assert.deepEqual(await openFds(), []);
  assert.equal(t.stats.counters.get('released'), 1);
  await writeFile(file, 'two\n');
  await f.poll();
  assert.deepEqual(lines, ['one', 'two']);
  await f.close();
});

test('a remembered inode whose first bytes changed is a new file (inode reuse): read from its start', async () => {
  const file = join(dir, 'reuse.log');
  const state = join(dir, 'reuse-state.json');
  await writeFile(file, REQ(200, 21) + REQ(200, 22));
  const st = await stat(file);
  // as if the old file (other content, same inode number) had been read up to byte 100
  await writeFile(state, JSON.stringify({ version: 1, files: { [file]: { dev: st.dev, ino: st.ino, offset: 100, headBytes: 50, headHash: 'not-the-same' } } }));
  const t = testContext();
  const inst = plugin.create(t.ctx, options({ files: [file], stateFile: state }));
  await inst.start();
  try {
    await until(() => requestTimes(t).length === 2, 5000, 'whole file');
    assert.deepEqual(requestTimes(t), [21, 22]);
    assert.equal(t.stats.counters.get('rotations'), 1);
  } finally {
    await inst.stop();
  }
});
