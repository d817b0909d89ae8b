// Parser + aggregator throughput without sockets: how many StatsD lines per second one core turns
// into aggregated state, and how long a flush of N keys takes. Prints one JSON line.
//   node --import tsx bench/statsd-line.ts [--names 1000] [--lines 2000000]
import { StatsdLineParser } from '../plugins/shared/statsd-line/index.js';
import { replayer } from '../test/statsd/replay.js';

const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const names = arg('names', 1000);
const total = arg('lines', 2_000_000);

// the statsd-blast mix: 70 % counters, 20 % timers, 8 % gauges, 2 % sets, packed to ~1400 bytes
const kinds = ['c', 'c', 'c', 'c', 'c', 'c', 'c', 'ms', 'ms', 'g'];
const packets: string[] = [];
let lines = 0;
let cur = '';
for (let i = 0; lines < 200_000; i++) {
  const t = i % 50 === 49 ? 's' : kinds[i % kinds.length]!;
  const line = `bench.${t}.n${i % names}:${t === 'ms' ? i % 997 : t === 's' ? `m${i % 37}` : 1}|${t}`;
  if (cur.length + line.length + 1 > 1400) {
    packets.push(cur);
    cur = '';
  }
  cur += cur ? `\n${line}` : line;
  lines++;
}
packets.push(cur);

// 1. parser alone
let sampled = 0;
const parser = new StatsdLineParser({ keySanitize: 'all', typeDialect: 'etsy' }, { sample: () => void sampled++, bad: () => {} });
let parsed = 0;
const t0 = performance.now();
while (parsed < total) for (const p of packets) parsed += parser.packet(p).lines;
const parseS = (performance.now() - t0) / 1000;

// 2. parser + batcher + aggregator state (the whole receive path minus the socket)
const r = replayer({ flushInterval: 10000 });
let fed = 0;
const t1 = performance.now();
while (fed < total) {
  for (const p of packets) r.packet(p);
  fed += lines;
}
const pathS = (performance.now() - t1) / 1000;

// 3. one flush of everything held
const t2 = performance.now();
const flushed = await r.flush(1_700_000_010);
const flushMs = performance.now() - t2;

console.log(
  JSON.stringify({
    bench: 'statsd-line',
    names,
    parse_lines_s: Math.round(parsed / parseS),
    receive_path_lines_s: Math.round(fed / pathS),
    flush_ms: Math.round(flushMs),
    flush_points: flushed.length,
    node: process.version,
  }),
);
