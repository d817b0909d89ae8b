// A restart within a flush interval (how config changes are applied) against a real whisper store:
// the stop flushes the interval so far, stamped with its boundary; the restarted process's first
// flush lands on the same whisper slot. With `stateFile` that flush covers the whole interval;
// without it, it replaced the first one (the counts sent before the restart were lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreInstance } from '../../core/index.js';
import { startInProcess, portOf, waitFor, type InProcess } from '../helpers/carbonado.js';

const HOUR = 3600;
// mid-interval, so the flush timer never fires during the test: only stops flush
const T0 = (Math.floor(Date.now() / 1000 / HOUR) - 2) * HOUR + 1234;
const BOUNDARY = T0 - (T0 % HOUR) + HOUR;

function config(dir: string, stateFile: string): Record<string, unknown> {
  return {
    inputs: { udp: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
    aggregators: { statsd: { type: 'statsd', flushIntervalMs: HOUR * 1000, stateFile } },
    stores: { w: { type: 'whisper', dataDir: join(dir, 'data'), walDir: join(dir, 'wal'), schemas: [{ name: 'all', pattern: '.*', retentions: '1h:7d' }] } },
  };
}

async function runOnce(dir: string, stateFile: string, at: number, lines: string[]): Promise<void> {
  const c = await startInProcess(config(dir, stateFile), { clock: () => at });
  try {
    const { host, port } = portOf(c.listening('inputs.udp'), 'udp');
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r, j) => s.send(lines.join('\n'), port, host, (e) => (e ? j(e) : r())));
    s.close();
    await waitFor(() => (c.stats().instances['inputs.udp']!.counters.metrics_received ?? 0) === lines.length, 'samples parsed');
  } finally {
    await c.stop();
  }
}

async function valuesAt(dir: string, names: string[], times: number[]): Promise<number[][]> {
  const c: InProcess = await startInProcess({ stores: config(dir, '').stores }, { clock: () => T0 + 2 * HOUR });
  try {
    const got = await c.runtime.instance<StoreInstance>('stores.w')!.fetch(names, BOUNDARY - HOUR, BOUNDARY + 2 * HOUR, { now: T0 + 2 * HOUR });
    return names.map((n) => {
      const s = got.find((x) => x.name === n)!;
      return times.map((t) => s.values[(t - s.start) / s.step]!);
    });
  } finally {
    await c.stop();
  }
}

const FIRST = ['rst.c:5|c', 'rst.t:10|ms', 'rst.s:a|s', 'rst.g:7|g'];
const SECOND = ['rst.c:3|c', 'rst.t:30|ms', 'rst.s:b|s'];
const NAMES = ['stats_counts.rst.c', 'stats.timers.rst.t.count', 'stats.timers.rst.t.mean', 'stats.sets.rst.s.count', 'stats.gauges.rst.g'];

test('a restart within the interval: with stateFile its point covers the whole interval; a later start leaves it alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-statsd-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stateFile = join(dir, 'data', 'statsd.interval.json');
  await runOnce(dir, stateFile, T0, FIRST);
  assert.ok(existsSync(stateFile), 'the stop left its interval');
  await runOnce(dir, stateFile, T0 + 60, SECOND);
  // an hour later: the interval the last stop flushed is over, so it is not added again
  await runOnce(dir, stateFile, T0 + HOUR, ['rst.c:1|c']);
  assert.ok(existsSync(stateFile), 'each stop leaves its own interval');
  const [c, count, mean, set, gauge] = await valuesAt(dir, NAMES, [BOUNDARY, BOUNDARY + HOUR]);
  assert.deepEqual(c, [8, 1]);
  assert.deepEqual(count![0], 2);
  assert.deepEqual(mean![0], 20);
  assert.deepEqual(set![0], 2);
  // the gauge kept its value through the restart within the interval; a start in a later one does
  // not bring it back (Etsy loses its gauges on a restart too)
  assert.deepEqual(gauge, [7, NaN]);
});

test('without stateFile the restarted flush replaces the stop\'s point (what stateFile is for)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-statsd-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await runOnce(dir, '', T0, FIRST);
  await runOnce(dir, '', T0 + 60, SECOND);
  const [c, count] = await valuesAt(dir, NAMES.slice(0, 2), [BOUNDARY]);
  assert.deepEqual([c![0], count![0]], [3, 1]);
});
