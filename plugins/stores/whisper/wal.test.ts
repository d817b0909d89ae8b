import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rename, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from './wal.js';

async function replayAll(wal: WriteAheadLog): Promise<{ points: Array<[string, number, number]>; torn: boolean[] }> {
  const points: Array<[string, number, number]> = [];
  const torn: boolean[] = [];
  for (const seg of await wal.segments()) torn.push((await wal.replay(seg, (n, t, v) => points.push([n, t, v]))).torn);
  return { points, torn };
}

/** one point in a record of its own */
function rec(wal: WriteAheadLog, name: string, t: number, v: number): void {
  record(wal, [[name, t, v]]);
}

/** points in one record (what restart() is given to re-log the cache) */
function record(wal: WriteAheadLog, points: Array<[string, number, number]>): void {
  wal.beginRecord();
  for (const [name, t, v] of points) wal.append(name, t, v);
  wal.endRecord();
}

test('WAL: ids are defined once per segment; every segment replays alone, across rotation', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    const wal = new WriteAheadLog(dir);
    await wal.open(1);
    wal.beginRecord();
    const a = wal.define('a.b');
    wal.appendPoint(a, 10, 1.5);
    wal.appendPoint(wal.define('tag;k=é'), 20, -2);
    wal.appendPoint(wal.define('a.b'), 30, 3);
    assert.equal(wal.define('a.b'), a);
    wal.endRecord();
    assert.equal(await wal.rotate(), 1);
    wal.beginRecord();
    wal.append('a.b', 40, 4); // defined again in segment 2
    wal.endRecord();
    await wal.close();
    const { points, torn } = await replayAll(wal);
    assert.deepEqual(points, [['a.b', 10, 1.5], ['tag;k=é', 20, -2], ['a.b', 30, 3], ['a.b', 40, 4]]);
    assert.deepEqual(torn, [false, false]);
    // a crash in the middle of the last record: the complete records still replay
    const last = join(dir, '000000000002.wal');
    await truncate(last, (await readFile(last)).length - 3);
    const again = await replayAll(new WriteAheadLog(dir));
    assert.deepEqual(again.points, points.slice(0, 3));
    assert.deepEqual(again.torn, [false, true]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: records span chunks (many series, long names) and replay in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    const wal = new WriteAheadLog(dir);
    await wal.open(1);
    const want: Array<[string, number, number]> = [];
    for (let r = 0; r < 3; r++) {
      wal.beginRecord();
      for (let i = 0; i < 5000; i++) {
        const name = `s${i}.${'x'.repeat(i % 300)}`;
        wal.append(name, r * 10 + 1, i + r);
        want.push([name, r * 10 + 1, i + r]);
      }
      wal.endRecord();
    }
    await wal.close();
    const { points, torn } = await replayAll(wal);
    assert.deepEqual(torn, [false]);
    assert.equal(points.length, want.length);
    assert.deepEqual(points, want);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a segment written by 0.1.x (names inline, no magic) still replays', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    // u32 byteLength | u32 count | count × (u16 nameBytes | name | f64 time | f64 value)
    const entries = [['a.b', 10, 1], ['c', 20, 2]] as const;
    const body = Buffer.concat(
      entries.map(([n, t, v]) => {
        const b = Buffer.alloc(2 + n.length + 16);
        b.writeUInt16LE(n.length, 0);
        b.write(n, 2, 'utf8');
        b.writeDoubleLE(t, 2 + n.length);
        b.writeDoubleLE(v, 10 + n.length);
        return b;
      }),
    );
    const head = Buffer.alloc(8);
    head.writeUInt32LE(body.length + 4, 0);
    head.writeUInt32LE(entries.length, 4);
    await writeFile(join(dir, '000000000007.wal'), Buffer.concat([head, body]));
    const { points, torn } = await replayAll(new WriteAheadLog(dir));
    assert.deepEqual(points, [['a.b', 10, 1], ['c', 20, 2]]);
    assert.deepEqual(torn, [false]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a failed write (a real ENOSPC) breaks only its segment; restart() re-logs into a new one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    const wal = new WriteAheadLog(dir);
    await wal.open(1);
    wal.beginRecord();
    wal.append('a', 10, 1);
    wal.endRecord();
    await wal.flush();
    // the next segment is /dev/full: every write to it fails with ENOSPC, as on a full disk
    await symlink('/dev/full', join(dir, '000000000002.wal'));
    assert.equal(await wal.rotate(), 1);
    wal.beginRecord();
    wal.append('b', 20, 2);
    wal.endRecord();
    await assert.rejects(wal.flush(), { code: 'ENOSPC' });
    assert.equal((wal.broken as NodeJS.ErrnoException | undefined)?.code, 'ENOSPC');
    // later writes are skipped, not failed again, and a rotation refuses to hide the loss
    rec(wal, 'b', 30, 3);
    await wal.flush();
    await assert.rejects(wal.rotate(), { code: 'ENOSPC' });
    await unlink(join(dir, '000000000002.wal')); // space is back
    const seq = await wal.restart(() => record(wal, [['b', 20, 2], ['b', 30, 3]]));
    assert.equal(seq, 3);
    assert.equal(wal.broken, undefined);
    rec(wal, 'c', 40, 4);
    await wal.close();
    const { points, torn } = await replayAll(new WriteAheadLog(dir));
    assert.deepEqual(points, [['a', 10, 1], ['b', 20, 2], ['b', 30, 3], ['c', 40, 4]]);
    assert.deepEqual(torn, [false, false]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a segment whose fsync fails at rotation (a real EINVAL from /dev/null) breaks the WAL; restart() re-logs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    // writes to /dev/null succeed and its fdatasync fails: the kernel cannot vouch for the records
    await symlink('/dev/null', join(dir, '000000000001.wal'));
    const wal = new WriteAheadLog(dir);
    await wal.open(1);
    rec(wal, 'a', 10, 1);
    await wal.flush();
    assert.equal(wal.broken, undefined, 'the writes themselves succeeded');
    await assert.rejects(wal.rotate(), { code: 'EINVAL' });
    assert.equal((wal.broken as NodeJS.ErrnoException | undefined)?.code, 'EINVAL', 'a failed fsync of the closed segment breaks the WAL');
    // what went to the new segment meanwhile is not trusted alone either: a rotation refuses, and
    // restart() writes every point the cache holds into a fresh segment
    rec(wal, 'b', 20, 2);
    await wal.flush();
    await assert.rejects(wal.rotate(), { code: 'EINVAL' });
    const seq = await wal.restart(() => record(wal, [['a', 10, 1], ['b', 20, 2]]));
    assert.equal(seq, 3);
    assert.equal(wal.broken, undefined);
    rec(wal, 'c', 30, 3);
    await wal.rotate();
    await wal.close();
    await unlink(join(dir, '000000000001.wal'));
    await unlink(join(dir, '000000000002.wal'));
    const { points, torn } = await replayAll(new WriteAheadLog(dir));
    assert.deepEqual(points, [['a', 10, 1], ['b', 20, 2], ['c', 30, 3]]);
    assert.deepEqual(torn, [false, false]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a failed re-log goes to the next segment and never truncates one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    const wal = new WriteAheadLog(dir);
    await symlink('/dev/full', join(dir, '000000000001.wal'));
    await wal.open(1);
    rec(wal, 'a', 10, 1);
    await assert.rejects(wal.flush());
    await symlink('/dev/full', join(dir, '000000000002.wal'));
    assert.equal(await wal.restart(() => rec(wal, 'a', 10, 1)), 2);
    await assert.rejects(wal.flush());
    assert.ok(wal.broken);
    assert.equal(await wal.restart(() => rec(wal, 'a', 10, 1)), 3);
    await wal.close();
    for (const f of ['000000000001.wal', '000000000002.wal']) await unlink(join(dir, f));
    assert.deepEqual(await readdir(dir), ['000000000003.wal']);
    assert.deepEqual((await replayAll(new WriteAheadLog(dir))).points, [['a', 10, 1]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WAL: a segment whose directory was moved away is noticed, and restart() makes the directory again', async () => {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  const dir = join(root, 'wal');
  try {
    const wal = new WriteAheadLog(dir);
    await wal.segments();
    await wal.open(1);
    rec(wal, 'a', 10, 1);
    await wal.flush();
    assert.equal(await wal.checkLinked(), true);
    await rename(dir, join(root, 'moved'));
    assert.equal(await wal.checkLinked(), false);
    assert.ok(wal.broken);
    assert.equal(await wal.restart(() => rec(wal, 'a', 10, 1)), 2);
    await wal.close();
    assert.deepEqual((await replayAll(new WriteAheadLog(dir))).points, [['a', 10, 1]]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('WAL: a damaged record is told apart from a torn tail', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-wal-'));
  try {
    const wal = new WriteAheadLog(dir);
    await wal.open(1);
    for (let r = 0; r < 4; r++) {
      wal.beginRecord();
      for (let i = 0; i < 10; i++) wal.append(`s${i}`, r * 10 + i, i);
      wal.endRecord();
      await wal.flush(); // one record per flush: four records
    }
    await wal.close();
    const file = join(dir, '000000000001.wal');
    const good = await readFile(file);
    const replay = async () => new WriteAheadLog(dir).replay(1, () => undefined);
    assert.deepEqual(await replay(), { points: 40, torn: false });
    // zeros where the last record should be (a power loss after the file grew): torn
    const zeroed = Buffer.from(good);
    const lastLen = 8 + 10 * 20;
    zeroed.fill(0, good.length - lastLen);
    await writeFile(file, zeroed);
    assert.deepEqual(await replay(), { points: 30, torn: true });
    // garbage in the second record's entries: damage, reported with where it starts
    const damaged = Buffer.from(good);
    const second = damaged.length - 3 * lastLen; // after the magic and the first record (which defines the ids)
    damaged.writeUInt32LE(0x7fffffff, second + 8); // a point of a series never defined
    await writeFile(file, damaged);
    const r = await replay();
    assert.equal(r.torn, false);
    assert.equal(r.damagedAt, second);
    assert.equal(r.skippedBytes, damaged.length - second);
    assert.equal(r.points, 10);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
