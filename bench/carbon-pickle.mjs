#!/usr/bin/env node
// bench/carbon-pickle: cost per point of carbon_pickle (protocol-2 frames of 500 points, as
// carbon-relay sends) against carbon_line (plaintext) in the same carbonado process and the same
// run, with a store that only counts. Loads come from the shared harness's carbon-blast.js
// (--mode pickle / --mode plain); plain and pickle runs alternate so drift hits both alike.
// Cost = carbonado's CPU seconds (user+sys from /proc) per point. Prints one JSON line.
// Options: --series 10000 --points 50 --runs 3 --conns 1
// `--hostile SECONDS` instead runs 20 concurrent hostile connections for that long (a million tiny
// tuples, 500k Nones, 400k memo references, a 1 MiB frame left unfinished, a 2 GiB length prefix)
// while a well-behaved client keeps sending, and reports carbonado's RSS and the good client's rate.
import { join } from 'node:path';
import { connect } from 'node:net';
import { REPO, SHARED_BENCH, runJson, sleep, procSample, startCarbonado } from './lib/harness.mjs';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((s) => s.trim().split(/\s+/)).map(([k, v]) => [k, v]));
const series = Number(args.series ?? 10000);
const points = Number(args.points ?? 50);
const runs = Number(args.runs ?? 3);
const conns = Number(args.conns ?? 1);
const total = series * points;
const blast = join(SHARED_BENCH, 'carbon-blast.js');

const c = await startCarbonado({
  http: { host: '127.0.0.1', port: 0 },
  plugins: [join(REPO, 'bench', 'lib', 'counting-store.mjs')],
  inputs: {
    line: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' },
    pickle: { type: 'carbon_pickle', host: '127.0.0.1', port: 0 },
  },
  stores: { count: { type: 'counting_store' } },
});
const portOf = (id) => Number(new RegExp(`started inputs\\.${id} \\(\\w+\\) tcp://[^\\s]+?:(\\d+)(?!\\d)`).exec(c.log())[1]);
const ports = { plain: portOf('line'), pickle: portOf('pickle') };

/** One blast of `total` points in `mode`; returns wall rate and carbonado CPU per point. */
async function run(mode, i) {
  const before = (await c.stats()).instances['stores.count'].gauges;
  const cpu0 = procSample(c.pid);
  const t0 = Date.now();
  const b = await runJson(blast, ['--port', String(ports[mode]), '--mode', mode, '--series', String(series), '--points', String(points), '--batch', '500', '--conns', String(conns), '--prefix', `bench.pk.${mode}${i}`]);
  let st;
  for (;;) {
    st = (await c.stats()).instances['stores.count'].gauges;
    if (st.points - before.points >= total) break;
    if (Date.now() - t0 > 300_000) throw new Error(`${mode}: only ${st.points - before.points} of ${total} points arrived`);
    await sleep(20);
  }
  const cpu1 = procSample(c.pid);
  // carbon-blast's value of series s at step j is s*1000+j: the sum proves no value was mangled
  const wantSum = points * 1000 * (series * (series - 1)) / 2 + series * (points * (points - 1)) / 2;
  const cpu = cpu1.cpuSecs - cpu0.cpuSecs;
  return {
    points_per_s: Math.round(total / ((st.last_ms - b.start_ms) / 1000)),
    cpu_us_per_point: +((cpu * 1e6) / total).toFixed(3),
    sum_ok: st.sum - before.sum === wantSum,
    rss_mb: Math.round(cpu1.rss / 1e6),
  };
}

if (args.hostile !== undefined) {
  console.log(JSON.stringify(await hostile(Number(args.hostile || 30))));
  await c.stop();
  process.exit(0);
}

const results = { plain: [], pickle: [] };
await run('plain', 'warm');
await run('pickle', 'warm');
for (let i = 0; i < runs; i++) {
  results.plain.push(await run('plain', i));
  results.pickle.push(await run('pickle', i));
}
const stats = (await c.stats()).instances;
await c.stop();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (rs) => ({
  points_per_s: median(rs.map((r) => r.points_per_s)),
  cpu_us_per_point: median(rs.map((r) => r.cpu_us_per_point)),
  runs: rs,
});
const plain = summary(results.plain);
const pickle = summary(results.pickle);
console.log(
  JSON.stringify({
    bench: 'carbon-pickle',
    series,
    points_per_series: points,
    points_per_run: total,
    frame_points: 500,
    runs,
    carbonado_pickle_points_per_s: pickle.points_per_s,
    carbonado_plain_points_per_s: plain.points_per_s,
    pickle_cpu_us_per_point: pickle.cpu_us_per_point,
    plain_cpu_us_per_point: plain.cpu_us_per_point,
    cost_ratio_pickle_to_plain: +(pickle.cpu_us_per_point / plain.cpu_us_per_point).toFixed(3),
    target_cost_ratio_max: 1.5,
    all_sums_ok: [...results.plain, ...results.pickle].every((r) => r.sum_ok),
    pickle_dropped: stats['inputs.pickle'].droppedTotal,
    plain_dropped: stats['inputs.line'].droppedTotal,
    pickle,
    plain,
  }),
);

/** Hostile connections against the pickle port while one good client sends 500-point frames. */
async function hostile(seconds) {
  const rss = () => Math.round(procSample(c.pid).rss / 1e6);
  const fr = (b) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(b.length);
    return Buffer.concat([h, b]);
  };
  const kinds = [
    fr(Buffer.concat([Buffer.from(']('), Buffer.alloc(1_000_000, 0x29), Buffer.from('e.')])),
    fr(Buffer.concat([Buffer.from(']('), Buffer.alloc(500_000, 0x4e), Buffer.from('e.')])),
    fr(Buffer.concat([Buffer.from(']q\x00(', 'latin1'), Buffer.from('h\x00'.repeat(400_000), 'latin1'), Buffer.from('e.')])),
    Buffer.concat([Buffer.from([0x00, 0x0f, 0xff, 0xff]), Buffer.alloc(900_000, 0x4e)]),
    Buffer.from([0x80, 0x00, 0x00, 0x00]),
  ];
  const one = (k) => new Promise((resolve) => {
    const s = connect(ports.pickle, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', resolve);
    s.on('connect', () => {
      s.write(kinds[k]);
      setTimeout(() => s.destroy(), 200);
    });
  });
  const before = (await c.stats()).instances['stores.count'].gauges.points;
  const good = runJson(blast, ['--port', String(ports.pickle), '--mode', 'pickle', '--series', '1000', '--points', String(seconds * 20), '--rate', '20000', '--batch', '500', '--prefix', 'bench.pk.good', '--duration-max', String(seconds * 3)]);
  const rss0 = rss();
  const samples = [];
  let opened = 0;
  const t0 = Date.now();
  let next = 5000;
  while (Date.now() - t0 < seconds * 1000) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => one((opened + i) % kinds.length)));
    opened += 20;
    if (Date.now() - t0 > next) {
      samples.push(rss());
      next += 5000;
    }
  }
  const g = await good;
  let got = 0;
  for (let i = 0; i < 200 && got < g.sent_points; i++) {
    got = (await c.stats()).instances['stores.count'].gauges.points - before;
    await sleep(50);
  }
  const st = (await c.stats()).instances['inputs.pickle'];
  return {
    bench: 'carbon-pickle-hostile',
    seconds,
    hostile_connections: opened,
    rss_start_mb: rss0,
    rss_max_mb: Math.max(...samples, rss()),
    rss_samples_mb: samples,
    good_points_sent: g.sent_points,
    good_points_received: got,
    good_points_per_s: g.rate_points_s,
    dropped: st.dropped,
    closed_by_limit: st.counters.connections_closed_by_limit ?? 0,
  };
}
