import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from './wal.js';

async function replayAll(wal: WriteAheadLog): Promise<{ points: Array<[string, number, number]>; torn: boolean[] }> {
  const points: Array<[string, number, number]> = [];
  const torn: boolean[] = [];
  for (const seg of await wal.segments()) torn.push((await wal.replay(seg, (n, t, v) => points.push([n, t, v]))).torn);
  return { points, torn };
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
