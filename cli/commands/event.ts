import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { parseArgs, stringOption } from '../args.js';
import { AtTimeError, parseAtTime } from '../../plugins/shared/attime/attime.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';

const command: Command = {
  summary: 'record an annotation (e.g. a deploy marker) in a running carbonado',
  usage: `Usage: carbonado event WHAT [--tags a,b] [--data TEXT|-] [--when TIME] [--url URL] [--token TOKEN]

Posts one event to POST <url>/events/ of a running carbonado (the grafana_annotations output),
for deploy scripts: it prints the stored event as JSON and exits 0, or prints why not and exits 1
(2 for a usage error).

  WHAT            the title shown on the Grafana annotation
  --tags LIST     tags, separated by commas or spaces (Grafana filters annotations by them)
  --data TEXT     the annotation's text; "-" reads it from stdin (final newlines dropped)
  --when TIME     Unix seconds (a fraction allowed), a Graphite time (-5min, now, 20240101) or ISO 8601; default now
  --url URL       carbonado's HTTP address (default: env CARBONADO_URL, else ${DEFAULT_URL})
  --token TOKEN   bearer token (default: env CARBONADO_EVENTS_TOKEN; needed unless carbonado
                  runs on this machine with no token configured)
  --timeout-ms N  give up after N ms (default 10000)

Example:
  carbonado event "Deployed v2.3" --tags deploy,hub --data "$(git log -1 --oneline)"`,
  async run(argv) {
    const args = parseArgs(argv);
    const what = args.positionals.join(' ').trim();
    if (what === '') return usage('missing WHAT (the annotation title)');
    for (const k of args.options.keys()) {
      if (!['tags', 'data', 'when', 'url', 'token', 'timeout-ms'].includes(k)) return usage(`unknown option --${k}`);
    }
    for (const k of ['tags', 'data', 'when', 'url', 'token', 'timeout-ms']) {
      if (args.options.get(k) === true) return usage(`--${k} needs a value`);
    }

    const body: { what: string; tags?: string; data?: string; when?: number } = { what };
    const tags = stringOption(args, 'tags');
    if (tags !== undefined) body.tags = tags.split(/[\s,]+/).filter(Boolean).join(' ');
    const data = stringOption(args, 'data');
    // from stdin without its final newlines, as the shell's $(…) gives it (echo, git log end in one)
    if (data !== undefined) body.data = data === '-' ? readFileSync(0, 'utf8').replace(/(\r?\n)+$/, '') : data;
    const when = stringOption(args, 'when');
    if (when !== undefined) {
      const t = parseWhen(when);
      if (t === undefined) return usage('--when must be Unix seconds, a Graphite time such as -5min, or an ISO 8601 date');
      body.when = t;
    }
    const base = (stringOption(args, 'url') ?? process.env.CARBONADO_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/\S+$/.test(base)) return usage('--url must be an http:// or https:// address');
    const token = stringOption(args, 'token') ?? (process.env.CARBONADO_EVENTS_TOKEN || undefined);
    const timeoutMs = Number(stringOption(args, 'timeout-ms') ?? 10_000);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) return usage('--timeout-ms must be a positive integer');

    const url = `${base}/events/`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      // fetch wraps the socket error; its code (ECONNREFUSED, ENOTFOUND) is what an operator needs
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      process.stderr.write(`carbonado event: cannot reach ${url}: ${why}\n`);
      return 1;
    }
    const text = await res.text();
    if (!res.ok) {
      process.stderr.write(`carbonado event: ${url} answered ${res.status}: ${errorMessage(text)}${hint(res.status)}\n`);
      return 1;
    }
    process.stdout.write(`${text.trim() === '' ? '{}' : text.trim()}\n`);
    return 0;
  },
};
export default command;

function usage(msg: string): number {
  process.stderr.write(`carbonado event: ${msg} (see carbonado event --help)\n`);
  return 2;
}

function parseWhen(s: string): number | undefined {
  const now = Date.now() / 1000;
  // Unix seconds with a fraction (`date +%s.%N`), which the events API takes as they are
  if (/^\d+\.\d+$/.test(s)) return Number(s);
  try {
    return parseAtTime(s, { now });
  } catch (err) {
    if (!(err instanceof AtTimeError)) throw err;
  }
  // ISO 8601 needs a date and a time zone designator or is read as UTC ("2024-01-02T03:04:05Z")
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) || !s.includes('T') ? s : `${s}Z`);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** The server's JSON `error`, else the start of the body (never more than one line). */
function errorMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON: fall through
  }
  return text.split('\n')[0]!.slice(0, 200) || '(empty body)';
}

function hint(status: number): string {
  if (status === 401) return ' (pass --token or set CARBONADO_EVENTS_TOKEN)';
  if (status === 403) return ' (run it on the carbonado host, or configure a token there and pass --token)';
  if (status === 404) return ' (is the grafana_annotations output enabled at that address?)';
  return '';
}
