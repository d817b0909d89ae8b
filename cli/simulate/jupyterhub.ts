import { createSocket, type Socket } from 'node:dgram';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A JupyterHub stand-in for demos and tests: N users log in, spawn servers, work, fail now and
 * then, and stop, in real time (StatsD has no timestamps, so a simulated hour takes an hour; use a
 * short tick and duration in tests). It writes what a hub writes: log lines in JupyterHub's format
 * (for log_tail), the StatsD metrics of JupyterHub 0.6-5.x (for statsd_udp), and optionally a
 * Prometheus /hub/metrics endpoint like JupyterHub >= 0.9 (for prometheus_scrape).
 */
export interface SimulateOptions {
  users: number;
  durationMs: number;
  tickMs: number;
  /** append hub log lines here; '' = no log */
  logFile: string;
  /** send StatsD here ('host:port'); '' = no StatsD */
  statsd: string;
  /** serve /hub/metrics on this 'host:port' (port 0 picks one); '' = no endpoint */
  metricsListen: string;
  /** token the /hub/metrics endpoint demands; '' = none */
  metricsToken: string;
  prefix: string;
  seed: number;
  /** called once the metrics endpoint listens, with its URL */
  onMetricsUrl?: (url: string) => void;
}

export interface SimulateResult {
  ticks: number;
  logLines: number;
  statsdLines: number;
  logins: number;
  spawns: number;
  spawnFailures: number;
  scrapes: number;
}

type UserState = 'offline' | 'running';

/** mulberry32: a tiny seeded PRNG, so a demo or test run is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HANDLERS: Array<[string, string, string]> = [
  // [route, handler label of the Prometheus metric, method]
  ['/hub/home', 'jupyterhub.handlers.pages.HomeHandler', 'GET'],
  ['/hub/api/users', 'jupyterhub.apihandlers.users.UserListAPIHandler', 'GET'],
  ['/hub/api/user', 'jupyterhub.apihandlers.users.SelfAPIHandler', 'GET'],
  ['/hub/spawn-pending/{u}', 'jupyterhub.handlers.pages.SpawnPendingHandler', 'GET'],
];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SPAWN_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120];

/** Cumulative Prometheus histogram state (one label set). */
class Histogram {
  readonly counts: number[];
  count = 0;
  sum = 0;
  constructor(readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.count++;
    this.sum += v;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
  }
  lines(name: string, labels: string): string {
    const sep = labels === '' ? '' : ',';
    let out = '';
    for (let i = 0; i < this.buckets.length; i++) out += `${name}_bucket{${labels}${sep}le="${this.buckets[i]}"} ${this.counts[i]}\n`;
    out += `${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}\n`;
    out += `${name}_count{${labels}} ${this.count}\n${name}_sum{${labels}} ${this.sum}\n`;
    return out;
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function stamp(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

function hostPort(s: string, what: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  if (m === null) throw new Error(`${what} must be host:port, got "${s}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

export async function simulateJupyterhub(o: SimulateOptions): Promise<SimulateResult> {
  const rnd = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const res: SimulateResult = { ticks: 0, logLines: 0, statsdLines: 0, logins: 0, spawns: 0, spawnFailures: 0, scrapes: 0 };
  const users = Array.from({ length: o.users }, (_, i) => ({ name: `student${pad(i + 1, 3)}`, state: 'offline' as UserState, ip: `10.0.${1 + (i >> 8)}.${i & 255}` }));

  let log: FileHandle | undefined;
  let udp: Socket | undefined;
  let statsdTarget: { host: string; port: number } | undefined;
  let server: Server | undefined;
  const p = o.prefix === '' ? '' : `${o.prefix}.`;
  const requestHist = new Map<string, Histogram>();
  const spawnHist = { success: new Histogram(SPAWN_BUCKETS), failure: new Histogram(SPAWN_BUCKETS) };
  /** users who ever logged in: the hub's total_users */
  const seen = new Set<string>();

  const lines: string[] = [];
  const packet: string[] = [];
  const logLine = (level: 'I' | 'W' | 'E' | 'D', module: string, msg: string): void => {
    lines.push(`[${level} ${stamp(new Date())} JupyterHub ${module}] ${msg}`);
  };
  const request = (code: number, method: string, uri: string, user: string, ip: string, ms: number, location?: string): void => {
    const level = code >= 500 ? 'E' : code >= 400 ? 'W' : 'I';
    if (code >= 500 && code !== 502 && code !== 503) {
      // JupyterHub logs the request headers as a JSON block before a 5xx request line.
      lines.push(`[E ${stamp(new Date())} JupyterHub log:184] {`, `      "Host": "hub.example.org",`, `      "Accept": "*/*",`, `      "Authorization": "token [secret]"`, `    }`);
    }
    logLine(level, 'log:192', `${code} ${method} ${uri}${location ? ` -> ${location}` : ''} (${user}@${ip}) ${ms.toFixed(2)}ms`);
    const handler = HANDLERS.find(([route]) => uri.startsWith(route.replace('{u}', '')))?.[1] ?? 'jupyterhub.handlers.base.UserUrlHandler';
    const key = `code="${code}",handler="${handler}",method="${method}"`;
    let h = requestHist.get(key);
    if (h === undefined) requestHist.set(key, (h = new Histogram(BUCKETS)));
    h.observe(ms / 1000);
  };
  const statsd = (line: string): void => {
    if (statsdTarget !== undefined) packet.push(p + line);
  };

  try {
    if (o.logFile !== '') log = await open(o.logFile, 'a');
    if (o.statsd !== '') {
      statsdTarget = hostPort(o.statsd, '--statsd');
      udp = createSocket(statsdTarget.host.includes(':') ? 'udp6' : 'udp4');
    }
    if (o.metricsListen !== '') {
      const { host, port } = hostPort(o.metricsListen, '--metrics-listen');
      server = createServer((req, rsp) => {
        if (!req.url?.startsWith('/hub/metrics')) return void rsp.writeHead(404).end();
        if (o.metricsToken !== '' && req.headers.authorization !== `Bearer ${o.metricsToken}`) return void rsp.writeHead(403).end('Forbidden\n');
        res.scrapes++;
        const running = users.filter((u) => u.state === 'running').length;
        let body = '# HELP jupyterhub_request_duration_seconds request duration for all HTTP requests\n# TYPE jupyterhub_request_duration_seconds histogram\n';
        for (const [labels, h] of requestHist) body += h.lines('jupyterhub_request_duration_seconds', labels);
        body += '# HELP jupyterhub_server_spawn_duration_seconds time taken for server spawning operation\n# TYPE jupyterhub_server_spawn_duration_seconds histogram\n';
        body += spawnHist.success.lines('jupyterhub_server_spawn_duration_seconds', 'status="success"');
        body += spawnHist.failure.lines('jupyterhub_server_spawn_duration_seconds', 'status="failure"');
        body += `# HELP jupyterhub_running_servers the number of user servers currently running\n# TYPE jupyterhub_running_servers gauge\njupyterhub_running_servers ${running}\n`;
        body += `# HELP jupyterhub_total_users total number of users\n# TYPE jupyterhub_total_users gauge\njupyterhub_total_users ${seen.size}\n`;
        body += '# HELP jupyterhub_active_users number of users who were active in the given time period\n# TYPE jupyterhub_active_users gauge\n';
        for (const [period, f] of [['24h', 1], ['7d', 1.2], ['30d', 1.5]] as const) body += `jupyterhub_active_users{period="${period}"} ${Math.min(o.users, Math.round(seen.size * f))}\n`;
        rsp.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      const a = server.address() as AddressInfo;
      o.onMetricsUrl?.(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/hub/metrics`);
    }

    logLine('I', 'app:3100', 'Running JupyterHub version 5.2.1 (simulated by carbonado)');
    const end = Date.now() + o.durationMs;
    while (Date.now() < end) {
      res.ticks++;
      for (const u of users) {
        const r = rnd();
        if (u.state === 'offline' && r < 0.15) {
          // login: page, POST (a wrong password now and then), redirect, spawn
          request(200, 'GET', '/hub/login', '', u.ip, 2 + rnd() * 5);
          statsd('login.request:1|c');
          if (rnd() < 0.1) {
            request(403, 'POST', '/hub/login?next=%2Fhub%2F', '', u.ip, 150 + rnd() * 100);
            statsd('login.failure:1|c');
            statsd(`login.authenticate.failure:${Math.round(150 + rnd() * 100)}|ms`);
            continue;
          }
          res.logins++;
          seen.add(u.name);
          request(302, 'POST', '/hub/login?next=%2Fhub%2F', '', u.ip, 120 + rnd() * 100, '/hub/');
          logLine('I', 'login:43', `User logged in: ${u.name}`);
          statsd('login.success:1|c');
          statsd(`login.authenticate.success:${Math.round(100 + rnd() * 100)}|ms`);
          statsd('redirects.user_after_login:1|c');
          const spawnSecs = 2 + rnd() * 20;
          request(302, 'GET', '/hub/spawn', u.name, u.ip, 30 + rnd() * 50, `/hub/spawn-pending/${u.name}`);
          res.spawns++;
          if (rnd() < 0.08) {
            res.spawnFailures++;
            spawnHist.failure.observe(spawnSecs);
            const reason = pick(['timeout', 'error', 'http_timeout'] as const);
            logLine('E', 'user:884', `Unhandled error starting ${u.name}'s server: ${reason}`);
            request(500, 'GET', `/hub/api/users/${u.name}/server/progress`, u.name, u.ip, spawnSecs * 1000);
            statsd(`spawner.failure:${Math.round(spawnSecs * 1000)}|ms`);
            statsd(`spawner.failure.${reason}:1|c`);
            continue;
          }
          spawnHist.success.observe(spawnSecs);
          logLine('I', 'base:1090', `User ${u.name} took ${spawnSecs.toFixed(3)} seconds to start`);
          logLine('I', 'proxy:319', `Adding user ${u.name} to proxy /user/${u.name}/ => http://10.1.0.${(u.ip.length * 7) % 250}:8888`);
          statsd(`spawner.success:${Math.round(spawnSecs * 1000)}|ms`);
          u.state = 'running';
        } else if (u.state === 'running') {
          if (r < 0.04) {
            const secs = 0.5 + rnd() * 3;
            logLine('I', 'proxy:356', `Removing user ${u.name} from proxy (/user/${u.name}/)`);
            logLine('I', 'base:1250', `User ${u.name} server took ${secs.toFixed(3)} seconds to stop`);
            request(204, 'DELETE', `/hub/api/users/${u.name}/server`, u.name, u.ip, secs * 1000);
            statsd(`spawner.stop:${Math.round(secs * 1000)}|ms`);
            statsd('logout:1|c');
            u.state = 'offline';
          } else {
            // working: kernel and contents API through the proxy, hub API polls, a few 404s
            request(200, 'GET', `/user/${u.name}/api/kernels?${Date.now()}`, u.name, u.ip, 1 + rnd() * 20);
            if (rnd() < 0.5) request(200, 'GET', '/hub/api/user', u.name, u.ip, 2 + rnd() * 10);
            if (rnd() < 0.3) request(200, 'GET', '/hub/home', u.name, u.ip, 10 + rnd() * 40);
            if (rnd() < 0.05) request(404, 'GET', `/user/${u.name}/files/missing.ipynb`, u.name, u.ip, 3 + rnd() * 5);
          }
        }
      }
      // configurable-http-proxy runs as the hub's child and writes to the same stream in its own
      // format: real logs mix it in, and the hub rules must count it as unmatched, not choke on it.
      if (rnd() < 0.2) lines.push(`${stamp(new Date()).slice(11)} [ConfigProxy] info: 200 GET /api/routes`);
      if (rnd() < 0.1) logLine('W', 'web:1873', `429 GET /hub/spawn (${pick(users).name}@10.0.0.1): Too many users trying to log in right now. Try again in 30 seconds.`);
      const running = users.filter((u) => u.state === 'running').length;
      statsd(`users.running:${running}|g`);
      statsd(`users.active:${Math.min(o.users, running + Math.round(o.users * 0.1))}|g`);

      if (log !== undefined && lines.length > 0) {
        await log.appendFile(`${lines.join('\n')}\n`);
        res.logLines += lines.length;
      }
      lines.length = 0;
      if (udp !== undefined && statsdTarget !== undefined) await sendPackets(udp, statsdTarget, packet, res);
      packet.length = 0;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(o.tickMs, end - Date.now()))));
    }
  } finally {
    await log?.close();
    udp?.close();
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise((r) => server!.close(r));
    }
  }
  return res;
}

/** Packs lines into datagrams of at most 1400 bytes (StatsD's usual MTU-safe size). */
async function sendPackets(udp: Socket, to: { host: string; port: number }, lines: string[], res: SimulateResult): Promise<void> {
  let buf = '';
  const send = (s: string) => new Promise<void>((resolve) => udp.send(s, to.port, to.host, () => resolve()));
  for (const l of lines) {
    if (buf.length + l.length + 1 > 1400 && buf !== '') {
      await send(buf);
      buf = '';
    }
    buf += buf === '' ? l : `\n${l}`;
    res.statsdLines++;
  }
  if (buf !== '') await send(buf);
}
