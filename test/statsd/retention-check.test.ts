import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';
import { testConfig, waitFor } from '../helpers/carbonado.js';
import type { StatsdAggregator } from '../../plugins/aggregators/statsd/statsd-aggregator.js';
import type { WhisperStore } from '../../plugins/stores/whisper/whisper-store.js';
import { pointBatch } from '../../core/index.js';

/** Starts a runtime with the given aggregator and stores, returns the warnings it logged at start. */
async function startWarnings(flushIntervalMs: number, stores: Record<string, unknown>, agg: Record<string, unknown> = {}): Promise<{ warnings: string[]; gauge: number }> {
  const lines: string[] = [];
  const rt = await Runtime.create(
    testConfig({ aggregators: { statsd: { type: 'statsd', flushIntervalMs, ...agg } }, stores }),
    { plugins: builtinPlugins, file: 'test', logSink: { write: (l: string) => void lines.push(l) } },
  );
  await rt.start();
  const gauge = rt.statsSnapshot().instances['aggregators.statsd']!.gauges.retention_mismatches!;
  await rt.stop();
  return { warnings: lines.filter((l) => l.includes('StatsD flushes every')), gauge };
}

const dir = () => mkdtempSync(join(tmpdir(), 'carbonado-retcheck-'));

test('a StatsD flush shorter than the finest retention is named at start-up, per store', async () => {
  const rules = { schemas: [{ name: 'statsd', pattern: '^stats', retentions: '10s:6h,1m:7d' }] };
  const { warnings, gauge } = await startWarnings(1000, {
    wsp: { type: 'whisper', dataDir: dir(), ...rules },
    db: { type: 'sqlite', path: join(dir(), 'c.db'), ...rules },
  });
  assert.equal(gauge, 2);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /stores\.wsp keeps stats\.example, stats_counts\.example, stats\.timers\.example\.mean, stats\.gauges\.example, stats\.sets\.example\.count at 10 s per point but StatsD flushes every 1 s/);
  assert.match(warnings[0]!, /about 9 of every 10 lost/);
  assert.match(warnings[0]!, /Set flushIntervalMs to 10000, or give these series a finest retention of 1s/);
  assert.match(warnings[1]!, /stores\.db keeps/);
});

test('no warning when the flush matches or is longer than the step; only the mismatched names are listed', async () => {
  const rules = { schemas: [{ name: 'statsd', pattern: '^stats', retentions: '10s:6h' }] };
  assert.deepEqual(await startWarnings(10_000, { wsp: { type: 'whisper', dataDir: dir(), ...rules } }), { warnings: [], gauge: 0 });
  assert.deepEqual(await startWarnings(60_000, { wsp: { type: 'whisper', dataDir: dir(), ...rules } }), { warnings: [], gauge: 0 });
  const mixed = {
    schemas: [
      { name: 'timers', pattern: '^stats\\.timers\\.', retentions: '1s:1h' },
      { name: 'rest', pattern: '.*', retentions: '5s:1h' },
    ],
  };
  const { warnings } = await startWarnings(2000, { wsp: { type: 'whisper', dataDir: dir(), ...mixed } }, { namespace: 'prefixed', globalPrefix: 'stats', prefixTimer: 'timers' });
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /keeps stats\.counters\.example\.rate, stats\.counters\.example\.count, stats\.gauges\.example, stats\.sets\.example\.count at 5 s per point but StatsD flushes every 2 s/);
  assert.doesNotMatch(warnings[0]!, /timers/);
});

test('a rule that matches some keys only is caught when those keys are first flushed', async () => {
  const lines: string[] = [];
  const rt = await Runtime.create(
    testConfig({
      inputs: { statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
      aggregators: { statsd: { type: 'statsd', flushIntervalMs: 10_000 } },
      stores: {
        wsp: {
          type: 'whisper',
          dataDir: dir(),
          schemas: [
            { name: 'hub', pattern: '^stats\\.(timers\\.)?jupyterhub\\.', retentions: '60s:7d' },
            { name: 'rest', pattern: '.*', retentions: '10s:6h' },
          ],
        },
      },
    }),
    { plugins: builtinPlugins, file: 'test', logSink: { write: (l: string) => void lines.push(l) } },
  );
  await rt.start();
  const sock = dgram.createSocket('udp4');
  try {
    const port = Number(new URL(rt.listening('inputs.statsd')[0]!).port);
    const agg = rt.instance<StatsdAggregator>('aggregators.statsd')!;
    const gauges = () => rt.statsSnapshot().instances['aggregators.statsd']!.gauges;
    assert.equal(gauges().retention_mismatches, 0, 'the example names match the catch-all rule');
    const send = (text: string) => new Promise<void>((r) => sock.send(text, port, '127.0.0.1', () => r()));
    await send('jupyterhub.spawns:1|c\njupyterhub.spawn_ms:120|ms\nweb.requests:1|c');
    await waitFor(() => agg.stats().counters >= 5 && agg.stats().timers >= 1, 'the samples aggregated');
    const ts = Math.floor(Date.now() / 10_000) * 10;
    await agg.flushNow(ts);
    await waitFor(() => gauges().retention_mismatched_series === 2, 'the two jupyterhub series reported');
    const warned = lines.filter((l) => l.includes('StatsD flushes every 10 s'));
    assert.equal(warned.length, 1, 'one warning, the next one is rate-limited');
    assert.match(warned[0]!, /stores\.wsp keeps stats\.jupyterhub\.spawns at 60 s per point/);
    // checked once per key: the next flush adds nothing
    await send('jupyterhub.spawns:1|c');
    await agg.flushNow(ts + 10);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(gauges().retention_mismatched_series, 2);
  } finally {
    sock.close();
    await rt.stop();
  }
});

test('a whisper file that already exists with a coarser step is caught, though the rules match the flush', async () => {
  const dataDir = dir();
  // a data directory from a carbon install with carbon's default schema (60s:1d)
  const old = await Runtime.create(testConfig({ stores: { wsp: { type: 'whisper', dataDir, schemas: [{ name: 'carbon_default', pattern: '.*', retentions: '60s:1d' }] } } }), { plugins: builtinPlugins, file: 'test' });
  await old.start();
  old.instance<WhisperStore>('stores.wsp')!.write(pointBatch([['stats.gauges.hub.users', 3, Math.floor(Date.now() / 1000) - 120]]));
  await old.stop();

  const lines: string[] = [];
  const rt = await Runtime.create(
    testConfig({
      inputs: { statsd: { type: 'statsd_udp', host: '127.0.0.1', port: 0 } },
      aggregators: { statsd: { type: 'statsd', flushIntervalMs: 10_000 } },
      stores: { wsp: { type: 'whisper', dataDir } }, // the default rules: 10 s first
    }),
    { plugins: builtinPlugins, file: 'test', logSink: { write: (l: string) => void lines.push(l) } },
  );
  await rt.start();
  const sock = dgram.createSocket('udp4');
  try {
    const gauges = () => rt.statsSnapshot().instances['aggregators.statsd']!.gauges;
    assert.equal(gauges().retention_mismatches, 0);
    const port = Number(new URL(rt.listening('inputs.statsd')[0]!).port);
    const agg = rt.instance<StatsdAggregator>('aggregators.statsd')!;
    await new Promise<void>((r) => sock.send('hub.users:5|g\nhub.new:1|g', port, '127.0.0.1', () => r()));
    await waitFor(() => agg.stats().gauges >= 2, 'the gauges aggregated');
    await agg.flushNow(Math.floor(Date.now() / 10_000) * 10);
    await waitFor(() => gauges().retention_mismatched_series === 1, 'the old file reported');
    assert.match(lines.find((l) => l.includes('StatsD flushes every'))!, /stores\.wsp keeps stats\.gauges\.hub\.users at 60 s per point/);
  } finally {
    sock.close();
    await rt.stop();
  }
});
