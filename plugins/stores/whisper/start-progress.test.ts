// A store's start can outlast lifecycle.startTimeoutMs on a big tree or a big WAL: it tells the
// core it is moving on (ctx.startProgress), once per directory walked and per WAL segment and
// chunk written while the WAL is replayed. Counted here with a context of our own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { pointBatch } from '../../../core/index.js';
import { countingStoreContext } from '../../../test/helpers/store-context.js';
import { schema } from './schema.js';
import type { WhisperStoreOptions } from './options.js';
import { WhisperStore } from './whisper-store.js';
import { waitFor } from '../../../test/helpers/carbonado.js';
import { crashWith, walFiles } from '../../../test/helpers/whisper-wal.js';

function options(o: Partial<WhisperStoreOptions> & { dataDir: string }): WhisperStoreOptions {
  const copy = structuredClone(o) as WhisperStoreOptions;
  assert.ok(new Ajv({ useDefaults: true, strict: false }).compile(schema)(copy));
  return copy;
}

test('a store reports progress while it starts: per directory walked, and per chunk written out during a WAL replay', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-whisper-progress-'));
  const schemas = [{ name: 't', pattern: '.*', retentions: '10s:1d' }];
  // no runtime here: its HTTP server is what keeps a process up while a store's threads idle
  const keepAlive = setInterval(() => {}, 1000);
  try {
    for (let i = 0; i < 40; i++) {
      await mkdir(join(dir, `host${i}`));
      await writeFile(join(dir, `host${i}`, 'not-a-series.txt'), '');
    }
    const first = countingStoreContext('stores.main');
    const a = new WhisperStore(first.ctx, options({ dataDir: dir, schemas }));
    await a.start();
    assert.ok(first.reports() >= 41, `${first.reports()} reports for 41 directories`);
    // points left in the WAL by a store that never wrote them out (a kill -9)
    const now = Math.floor(Date.now() / 1000);
    for (let s = 0; s < 30; s++) a.write(pointBatch(Array.from({ length: 100 }, (_, i) => [`w.s${s}`, i, now - 3000 + 10 * i] as [string, number, number])));
    const walDir = join(dir, '.carbonado-wal');
    await waitFor(async () => (await walFiles(walDir)).reduce((n, [, b]) => n + b.length, 0) >= 3000 * 20, 'every point in the WAL');
    await crashWith(a, dir, await walFiles(walDir), 'w');

    // replayed into a cache far smaller than the WAL: written out in passes during the start
    const second = countingStoreContext('stores.main');
    const b = new WhisperStore(second.ctx, options({ dataDir: dir, schemas, cacheMaxPoints: 1000 }));
    await b.start();
    try {
      // the walk: the data directory and its 40 hosts (`w` is gone: only the WAL has its points);
      // then the segment, and the chunks written each time the replay filled the cache (48 here)
      const walked = 41;
      assert.ok(second.reports() >= walked + 3, `${second.reports()} reports: the replay's write-outs report too`);
      const [s] = await b.fetch(['w.s7'], now - 3010, now);
      assert.equal(s!.values.filter((v) => !Number.isNaN(v)).length, 100);
    } finally {
      await b.stop();
    }
  } finally {
    clearInterval(keepAlive);
    await rm(dir, { recursive: true, force: true });
  }
});
