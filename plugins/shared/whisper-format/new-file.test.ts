import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NewFileImage,
  createWhisper,
  encodeHeader,
  parseHeader,
  readHeader,
  updateMany,
  validateArchiveList,
  whisperFileSize,
  AGGREGATION_METHODS,
  type ArchiveSpec,
} from './index.js';

const CONFIGS: ArchiveSpec[][] = [
  [[10, 8640]],
  [[10, 2160], [60, 10080], [600, 262800]],
  [[1, 60], [5, 60], [60, 10]],
  [[60, 5]],
];

test('a new file made from NewFileImage has the bytes of create + update_many on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-newfile-'));
  try {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const now = 1_700_000_000;
    let k = 0;
    for (const archives of CONFIGS) {
      for (const method of AGGREGATION_METHODS) {
        // gappy: a run per point, past the image's switch to one buffer (DENSE_AFTER)
        for (const shape of ['ascending', 'random', 'future', 'wrap', 'gappy'] as const) {
          const n = 1 + rnd(shape === 'wrap' || shape === 'gappy' ? 400 : 80);
          const times: number[] = [];
          const values: number[] = [];
          for (let i = 0; i < n; i++) {
            const t =
              shape === 'ascending' ? now - (n - i) * 10 :
              shape === 'future' ? now + rnd(3) * 7 - rnd(100) :
              shape === 'wrap' ? now - i * 3 :
              shape === 'gappy' ? now - i * 20 - rnd(2) * 7 :
              now - rnd(100_000);
            times.push(t);
            values.push(rnd(2) ? rnd(1000) : -rnd(1000) / 7);
          }
          const xff = [0, 0.4, 0.5, 1][rnd(4)]!;
          const a = join(dir, `a${k}.wsp`);
          const b = join(dir, `b${k}.wsp`);
          k++;
          await createWhisper(a, archives, { xFilesFactor: xff, aggregationMethod: method, allocation: 'sparse' });
          const fh = await open(a, 'r+');
          await updateMany(fh, await readHeader(fh, a), times, values, n, now);
          await fh.close();

          const sorted = validateArchiveList(archives);
          const head = encodeHeader(sorted, xff, method);
          const image = new NewFileImage(whisperFileSize(sorted));
          await image.write(head, 0, head.length, 0);
          await updateMany(image, parseHeader(head, b), times, values, n, now);
          const fd = openSync(b, 'wx+');
          image.writeToSync(fd);
          closeSync(fd);
          assert.ok(readFileSync(a).equals(readFileSync(b)), `${JSON.stringify(archives)} ${method} ${shape}: files differ`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extents merge adjacent and overlapping writes, later writes winning, and leave holes', async () => {
  const img = new NewFileImage(100);
  await img.write(Buffer.from([1, 1, 1, 1]), 0, 4, 0);
  await img.write(Buffer.from([2, 2]), 0, 2, 4);
  await img.write(Buffer.from([3]), 0, 1, 1);
  await img.write(Buffer.from([4, 4]), 0, 2, 50);
  assert.deepEqual(img.extents().map((e) => [e.pos, [...e.buf]]), [[0, [1, 3, 1, 1, 2, 2]], [50, [4, 4]]]);
  const out = Buffer.alloc(8, 9);
  assert.equal((await img.read(out, 0, 8, 48)).bytesRead, 8);
  assert.deepEqual([...out], [0, 0, 4, 4, 0, 0, 0, 0]);
  await assert.rejects(img.write(Buffer.alloc(2), 0, 2, 99), RangeError);
});

test('an image of many writes (one buffer of the file) reads and extents as one of few', async () => {
  const few = new NewFileImage(10_000);
  const many = new NewFileImage(10_000);
  // the same bytes: one write each in `few`, split into 199 overlapping writes in `many`
  await few.write(Buffer.alloc(400, 7), 0, 400, 1000);
  await few.write(Buffer.from([1, 2, 3]), 0, 3, 5000);
  for (let i = 0; i < 199; i++) await many.write(Buffer.alloc(4, 7), 0, 4, 1000 + i * 2);
  await many.write(Buffer.from([1, 2, 3]), 0, 3, 5000);
  await many.write(Buffer.from([9]), 0, 1, 1001);
  await few.write(Buffer.from([9]), 0, 1, 1001);
  const shape = (img: NewFileImage) => img.extents().map((e) => [e.pos, e.buf.toString('hex')]);
  assert.deepEqual(shape(many), shape(few));
  const [a, b] = [Buffer.alloc(50, 5), Buffer.alloc(50, 5)];
  await few.read(a, 0, 50, 980);
  await many.read(b, 0, 50, 980);
  assert.ok(a.equals(b));
});
