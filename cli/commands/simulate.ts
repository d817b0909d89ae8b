import type { Command } from '../command.js';
import { parseArgs, stringOption } from '../args.js';
import { simulateJupyterhub, type SimulateOptions } from '../simulate/jupyterhub.js';

const OPTIONS = ['users', 'duration', 'tick-ms', 'log', 'statsd', 'metrics-listen', 'metrics-token', 'prefix', 'seed'];

const command: Command = {
  summary: 'simulate a JupyterHub (log lines, StatsD, /hub/metrics) so a fresh install has data',
  usage: `Usage: carbonado simulate jupyterhub [options]

Plays N users logging in, spawning, working and stopping, in real time, and writes what a
JupyterHub writes: hub log lines (for the log_tail input), the StatsD metrics of JupyterHub 0.6-5.x
(for statsd_udp), and optionally a Prometheus /hub/metrics endpoint (for prometheus_scrape).
Prints a JSON summary when done.

  --users N             simulated users (default 30)
  --duration SECS       how long to run (default 300)
  --tick-ms N           time between simulation steps (default 1000)
  --log FILE            append hub log lines to FILE (default: no log)
  --statsd HOST:PORT    send StatsD here (default 127.0.0.1:8125; "" to disable)
  --metrics-listen HOST:PORT   serve /hub/metrics there (default: not served)
  --metrics-token TOKEN the bearer token /hub/metrics demands (default: none)
  --prefix P            StatsD prefix, JupyterHub's statsd_prefix (default jupyterhub)
  --seed N              random seed, for reproducible runs (default 1)

Example (with config/examples/jupyterhub.yaml running):
  carbonado simulate jupyterhub --users 40 --duration 600 --log /tmp/jupyterhub.log`,
  async run(argv) {
    const args = parseArgs(argv);
    const [what, ...rest] = args.positionals;
    if (what !== 'jupyterhub' || rest.length > 0) return usage('the only simulation is "jupyterhub"');
    for (const k of args.options.keys()) if (!OPTIONS.includes(k)) return usage(`unknown option --${k}`);
    const num = (k: string, d: number, min: number): number | undefined => {
      const s = stringOption(args, k);
      if (args.options.get(k) === true) return undefined;
      const n = s === undefined ? d : Number(s);
      return Number.isFinite(n) && n >= min ? n : undefined;
    };
    const users = num('users', 30, 1);
    const duration = num('duration', 300, 0);
    const tickMs = num('tick-ms', 1000, 1);
    const seed = num('seed', 1, 0);
    if (users === undefined || duration === undefined || tickMs === undefined || seed === undefined) {
      return usage('--users, --duration, --tick-ms and --seed take non-negative numbers');
    }
    const o: SimulateOptions = {
      users: Math.floor(users),
      durationMs: duration * 1000,
      tickMs,
      logFile: stringOption(args, 'log') ?? '',
      statsd: args.options.has('statsd') ? (stringOption(args, 'statsd') ?? '') : '127.0.0.1:8125',
      metricsListen: stringOption(args, 'metrics-listen') ?? '',
      metricsToken: stringOption(args, 'metrics-token') ?? '',
      prefix: stringOption(args, 'prefix') ?? 'jupyterhub',
      seed,
      onMetricsUrl: (url) => process.stderr.write(`serving ${url}\n`),
    };
    try {
      const r = await simulateJupyterhub(o);
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`carbonado simulate: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

function usage(msg: string): number {
  process.stderr.write(`carbonado simulate: ${msg}\n${command.usage}\n`);
  return 2;
}

export default command;
