// Throughput of the JupyterHub inputs. log_tail: hub log lines/s end to end (file read, line split,
// jupyterhub rules, samples into the core's batcher), parse-only lines/s, and `wc -l` on the same
// file as the physical reference (no log-tail anchor exists in the stack carbonado replaces).
// prometheus_scrape: exposition samples/s parsed and converted to tagged points, side by side with
// the Python prometheus_client parser (Debian python3-prometheus-client) on the same body.
// Prints ONE JSON line. Usage: node --import tsx bench/jupyterhub-inputs.ts [--lines 200000] [--samples 50000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InstanceStats, Logger, SampleBatcher } from '../core/index.js';
import { JupyterhubRules } from '../plugins/inputs/log_tail/jupyterhub-rules.js';
import { LineProcessor } from '../plugins/inputs/log_tail/line-processor.js';
import logTail from '../plugins/inputs/log_tail/index.js';
import { parseExposition } from '../plugins/inputs/prometheus_scrape/exposition.js';
import { NameCache } from '../plugins/inputs/prometheus_scrape/series-name.js';
import { isBadName } from '../core/index.js';
import { testContext, until } from '../test/jupyterhub/context.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, samples: { type: 'string', default: '50000' } } });
const LINES = Number(values.lines);
const SAMPLES = Number(values.samples);
const dir = mkdtempSync(join(tmpdir(), 'bench-jh-'));

function hubLog(n: number): string {
  const out: string[] = [];
  const routes = ['/hub/home', '/hub/api/users', '/user/u{i}/api/kernels?1714564816000', '/hub/login?next=%2Fhub%2F', '/hub/spawn-pending/u{i}', '/user/u{i}/files/x.ipynb'];
  for (let i = 0; i < n; i++) {
    const r = i % 20;
    const ts = `2024-05-01 12:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}`;
    if (r === 0) out.push(`[I ${ts} JupyterHub base:1090] User u${i % 500} took ${(i % 30) + 1.5} seconds to start`);
    else if (r === 1) out.push(`[I ${ts} JupyterHub login:43] User logged in: u${i % 500}`);
    else if (r === 2) out.push(`12:00:00.000 [ConfigProxy] info: 200 GET /api/routes`);
    else {
      const code = r === 3 ? 404 : r === 4 ? 302 : r === 5 ? 500 : 200;
      const uri = routes[i % routes.length]!.replace('{i}', String(i % 500));
      out.push(`[${code >= 500 ? 'E' : code >= 400 ? 'W' : 'I'} ${ts} JupyterHub log:192] ${code} GET ${uri}${code === 302 ? ' -> /hub/' : ''} (u${i % 500}@10.0.${i % 250}.${i % 200}) ${((i % 997) / 7).toFixed(2)}ms`);
    }
  }
  return `${out.join('\n')}\n`;
}

function exposition(n: number): string {
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, '+Inf'];
  let body = '# HELP jupyterhub_request_duration_seconds request duration for all HTTP requests\n# TYPE jupyterhub_request_duration_seconds histogram\n';
  let count = 0;
  for (let h = 0; count < n; h++) {
    const labels = `code="${[200, 302, 404][h % 3]}",handler="jupyterhub.handlers.h${h}",method="GET"`;
    for (const b of buckets) {
      body += `jupyterhub_request_duration_seconds_bucket{${labels},le="${b}"} ${h * 3 + count % 7}.0\n`;
      count++;
    }
    body += `jupyterhub_request_duration_seconds_count{${labels}} ${h * 3}.0\njupyterhub_request_duration_seconds_sum{${labels}} ${h * 0.25}\n`;
    count += 2;
  }
  return body;
}

const result: Record<string, unknown> = { bench: 'jupyterhub-inputs', lines: LINES, node: process.version };
try {
  // log_tail end to end, through the real plugin and a real file
  const logFile = join(dir, 'jupyterhub.log');
  const text = hubLog(LINES);
  writeFileSync(logFile, text);
  result.log_bytes = Buffer.byteLength(text);
  const t = testContext('inputs.bench');
  const inst = logTail.create(t.ctx, { files: [logFile], startAt: 'beginning', stateFile: '', stateFlushIntervalMs: 5000, pollIntervalMs: 1000, maxLineBytes: 65536, ruleSets: ['jupyterhub'], prefix: 'jupyterhub', rules: [] });
  const t0 = performance.now();
  await inst.start();
  await until(() => t.stats.received === LINES, 120_000, 'all lines');
  const tailMs = performance.now() - t0;
  await inst.stop();
  result.log_tail_lines_s = Math.round(LINES / (tailMs / 1000));
  result.log_tail_samples = t.samples.length;

  // parse only (no file I/O): rule matching and name validation into a SampleBatcher
  const lines = text.split('\n');
  lines.pop();
  const stats = new InstanceStats('inputs.bench');
  let n = 0;
  const sink = new SampleBatcher((b) => void (n += b.length), { maxPoints: 1000, maxDelayMs: 50 }, () => Date.now() / 1000);
  const proc = new LineProcessor([new JupyterhubRules('jupyterhub')], [], sink, stats, new Logger('bench', 'error'));
  const p0 = performance.now();
  for (const l of lines) proc.line(l);
  sink.flush();
  const parseMs = performance.now() - p0;
  result.parse_lines_s = Math.round(LINES / (parseMs / 1000));
  result.parse_samples_s = Math.round(n / (parseMs / 1000));

  const w0 = performance.now();
  spawnSync('wc', ['-l', logFile]);
  result.reference_wc_l_lines_s = Math.round(LINES / ((performance.now() - w0) / 1000));

  // prometheus: parse + convert a big body, cold and warm name cache
  const body = exposition(SAMPLES);
  const bodyFile = join(dir, 'metrics.txt');
  writeFileSync(bodyFile, body);
  const names = new NameCache('');
  const convert = (): number => {
    const samples = parseExposition(body);
    let ok = 0;
    for (const s of samples) if (!isBadName(names.get(s))) ok++;
    return ok;
  };
  const c0 = performance.now();
  const converted = convert();
  const coldMs = performance.now() - c0;
  const w1 = performance.now();
  convert();
  const warmMs = performance.now() - w1;
  result.prom_samples = converted;
  result.prom_body_bytes = Buffer.byteLength(body);
  result.prom_cold_samples_s = Math.round(converted / (coldMs / 1000));
  result.prom_warm_samples_s = Math.round(converted / (warmMs / 1000));
  // anchor: prometheus_client's own text parser on the same body
  const py = spawnSync(
    '/usr/bin/python3',
    ['-c', `import sys,time\nfrom prometheus_client.parser import text_string_to_metric_families as p\nb=open(sys.argv[1]).read()\nt=time.perf_counter()\nn=sum(len(f.samples) for f in p(b))\nprint(n, time.perf_counter()-t)`, bodyFile],
    { encoding: 'utf8' },
  );
  if (py.status === 0) {
    const [pn, secs] = py.stdout.trim().split(' ').map(Number);
    result.anchor_python_prometheus_client_samples_s = Math.round(pn! / secs!);
  } else result.anchor_python_prometheus_client = 'unavailable (apt-get install python3-prometheus-client)';
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
