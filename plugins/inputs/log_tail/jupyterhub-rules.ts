import { SampleType } from '../../../core/index.js';
import { toNode, type Emit, type LineOutcome, type RuleSet } from './rules.js';

/*
 * JupyterHub's log format (every version, 0.6 to 6.x), from its LogFormatter settings:
 *   [I 2024-05-01 12:00:00.123 JupyterHub log:192] 200 GET /hub/home (alice@10.0.0.5) 12.34ms
 * The header is `[<level letter> <date> <time>.<ms> <logger> <module>:<line>]`; request lines are
 * `{status} {method} {uri}{ -> location} ({user}@{ip}) {request_time:.2f}ms` with an empty user for
 * anonymous requests. Names below live under the configured prefix (default `jupyterhub`) and never
 * collide with the StatsD metrics JupyterHub 0.6-5.x sends itself (`login.*`, `spawner.*`, `users.*`),
 * so both can be enabled at once without counting anything twice.
 */

const HEADER = /^\[([DIWEC])\s+\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?\s+[^\]]*\]\s?(.*)$/;
const REQUEST = /^(\d{3}) ([A-Z]+) (\S+)(?: -> (\S+))? \((.*)@([^@()]*)\) (\d+(?:\.\d+)?)ms$/;

// What follows a header inside one record: indented lines (the JSON header block logged before a
// 5xx request line, traceback frames), braces, the first and last lines of a Python traceback, and
// the request repr tornado logs after "Uncaught exception".
const CONTINUATION = /^(?:\s|[{}\]]|Traceback \(|During handling of|The above exception|HTTPServerRequest\(|[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b)/;

const LEVEL: Record<string, string> = { D: 'debug', I: 'info', W: 'warning', E: 'error', C: 'critical' };

interface EventRule {
  readonly re: RegExp;
  /** name under `<prefix>.events.` */
  readonly metric: string;
  /** a timer's value: group index holding seconds */
  readonly seconds?: number;
}

// The event lines of JupyterHub's handlers, user.py and proxy.py that operators count.
const EVENTS: readonly EventRule[] = [
  { re: /^User logged in: /, metric: 'login' },
  { re: /^User logged out: /, metric: 'logout' },
  { re: /^User \S+ took (\d+(?:\.\d+)?) seconds to start/, metric: 'spawn_time', seconds: 1 },
  { re: /^User \S+ server took (\d+(?:\.\d+)?) seconds to stop/, metric: 'stop_time', seconds: 1 },
  { re: /Spawner failed to start \[status=([^\]]*)\]/, metric: 'spawn_failure.status' },
  { re: /^Unhandled error starting /, metric: 'spawn_failure.error' },
  { re: /^User \S+ is slow to start/, metric: 'spawn_slow' },
  { re: /^User \S+ server stopped, with exit code: (\S+)/, metric: 'server_stopped' },
  { re: /^Adding user \S+ to proxy /, metric: 'proxy_add' },
  { re: /^Removing user \S+ from proxy/, metric: 'proxy_remove' },
  { re: /Too many users trying to log in right now/, metric: 'too_many_users' },
];

/** Request path → a small, fixed set of route groups (the label set of every per-route series). */
export function routeGroup(uri: string): string {
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  // The first /hub, /user or /services node, wherever a base_url prefix puts it.
  const m = /\/(hub|user|services)(?=\/|$)/.exec(path);
  if (m === null) return 'other';
  if (m[1] === 'user') return 'user';
  if (m[1] === 'services') return 'services';
  const rest = path.slice(m.index + 4);
  const node = /^\/([^/]*)/.exec(rest)?.[1] ?? '';
  switch (node) {
    case 'api':
      return 'hub_api';
    case 'login':
    case 'oauth_login':
    case 'oauth_callback':
      return 'hub_login';
    case 'logout':
      return 'hub_logout';
    case 'spawn':
    case 'spawn-pending':
      return 'hub_spawn';
    case 'home':
      return 'hub_home';
    case 'admin':
      return 'hub_admin';
    case 'static':
      return 'hub_static';
    case 'health':
      return 'hub_health';
    case 'metrics':
      return 'hub_metrics';
    case 'user':
      return 'hub_user';
    default:
      return 'hub_other';
  }
}

/**
 * The `jupyterhub` rule set. Per request line: `requests.<code>.<method>` and `status.<class>` counters,
 * a `request_time` timer (ms), the same per route group under `routes.<group>.`, and the distinct
 * users seen (`active_users`, a set), and `events.login_failure` for a POST to the login form that
 * does not redirect. Per event line: `events.<name>` counters or timers. Per header
 * line: `log.<level>` counters.
 */
export class JupyterhubRules implements RuleSet {
  /** true after a header line, until the next one: non-header lines then belong to that record */
  private inRecord = false;
  private readonly p: string;

  constructor(prefix: string) {
    this.p = prefix === '' ? '' : `${prefix}.`;
  }

  apply(line: string, emit: Emit): LineOutcome {
    const h = HEADER.exec(line);
    if (h === null) return this.inRecord && CONTINUATION.test(line) ? 'continuation' : 'unmatched';
    this.inRecord = true;
    const p = this.p;
    emit(`${p}log.${LEVEL[h[1]!]}`, SampleType.Counter, 1);
    const msg = h[2]!;
    const r = REQUEST.exec(msg);
    if (r !== null) {
      const code = r[1]!;
      const method = toNode(r[2]);
      const route = routeGroup(r[3]!);
      const cls = `${code[0]}xx`;
      const ms = Number(r[7]);
      emit(`${p}requests.${code}.${method}`, SampleType.Counter, 1);
      emit(`${p}status.${cls}`, SampleType.Counter, 1);
      emit(`${p}request_time`, SampleType.Timer, ms);
      emit(`${p}routes.${route}.status.${cls}`, SampleType.Counter, 1);
      emit(`${p}routes.${route}.request_time`, SampleType.Timer, ms);
      // A failed password login re-renders the form (200, or 403 since JupyterHub 4) instead of
      // redirecting; counted from the request line because "Failed login for" is a DEBUG line.
      if (route === 'hub_login' && r[2] === 'POST' && code !== '302' && code[0] !== '5') {
        emit(`${p}events.login_failure`, SampleType.Counter, 1);
      }
      const user = r[5]!;
      if (user !== '') emit(`${p}active_users`, SampleType.Set, 0, user);
      return 'matched';
    }
    for (const ev of EVENTS) {
      const m = ev.re.exec(msg);
      if (m === null) continue;
      if (ev.seconds !== undefined) emit(`${p}events.${ev.metric}`, SampleType.Timer, Number(m[ev.seconds]) * 1000);
      else emit(`${p}events.${ev.metric}`, SampleType.Counter, 1);
      return 'matched';
    }
    // A header line of a known shape whose message no rule counts (most INFO chatter) is still
    // counted by level above, so it is `matched`: `lines_unmatched` stays a garbage signal.
    return 'matched';
  }
}
