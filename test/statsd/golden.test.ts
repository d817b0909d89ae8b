// Golden tests: every scenario recorded against Etsy statsd 0.9.0 (record-goldens.mjs) must flush
// the same (name, value) pairs from carbonado's parser + aggregator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBadName, normalizeSeriesName } from '../../core/index.js';
import { replayer } from './replay.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'goldens');

interface Golden {
  name: string;
  config: Record<string, unknown>;
  rounds: string[][];
  idleFlushes: number;
  flushes: Array<Array<[string, string]>>;
}

/** Names whose values depend on timing or on Etsy's graphite TCP client, not on the input. */
function ignored(name: string): boolean {
  return name.includes('.graphiteStats.') || name.includes('.processing_time');
}
/** Etsy writes NaN where it reads index -1 (negative percentiles covering all values): we write the real sum. */
const NAN_DIVERGENCE = new Set(['pct_negative_all']);

function canonical(name: string): string {
  const n = normalizeSeriesName(name);
  return isBadName(n) ? name : n;
}

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
test('there are at least 40 recorded scenarios', () => {
  assert.ok(files.length >= 40, `${files.length} goldens`);
});

for (const f of files) {
  const g = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Golden;
  test(`golden ${g.name}`, async () => {
    // the recorder runs statsd with flushInterval 1000 unless the scenario sets one
    const r = replayer({ flushInterval: 1000, ...g.config });
    const rounds = [[], ...g.rounds, ...Array.from({ length: g.idleFlushes }, () => [])];
    assert.equal(rounds.length, g.flushes.length, 'recorded flush count');
    let ts = 1_700_000_000;
    for (let i = 0; i < rounds.length; i++) {
      for (const p of rounds[i]!) r.packet(p);
      ts += 10;
      const ours = new Map((await r.flush(ts)).filter(([n]) => !ignored(n)).map(([n, v]) => [n, v]));
      const etsy = new Map(g.flushes[i]!.filter(([n]) => !ignored(n)).map(([n, v]) => [canonical(n), v]));
      assert.deepEqual([...ours.keys()].sort(), [...etsy.keys()].sort(), `flush ${i}: names`);
      for (const [name, text] of etsy) {
        const want = Number(text);
        const got = ours.get(name)!;
        if (name.includes('.timestamp_lag')) continue; // Etsy's is rounded wall time
        if (Number.isNaN(want) && NAN_DIVERGENCE.has(g.name)) continue;
        assert.ok(Object.is(got, want) || got === want, `flush ${i}: ${name} = ${got}, Etsy wrote ${text}`);
      }
    }
  });
}
