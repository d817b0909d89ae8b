import { readFile } from 'node:fs/promises';
import { checkMetricPath, isBadName, type InputContext, type InputInstance } from '../../../core/index.js';
import { ExpositionError, parseExposition, type ExpositionSample } from './exposition.js';
import { httpGet } from './http-get.js';
import type { PrometheusScrapeOptions } from './options.js';
import { NameCache } from './series-name.js';

/**
 * Scrapes one Prometheus text endpoint on an interval and hands every sample on as a Graphite point
 * (tagged series). Counters and histograms stay the cumulative series Prometheus exposes: Grafana
 * users apply perSecond() or nonNegativeDerivative(), as they would with Prometheus' rate().
 *
 * A scrape is all or nothing: a failure (401, timeout, oversize, truncated or malformed body) is
 * counted under `errors_by.<reason>` and logged once when the state changes, never per attempt.
 */
export class PrometheusScrape implements InputInstance {
  private readonly url: URL;
  private readonly names: NameCache;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private abort = new AbortController();
  private stopped = true;
  /** 'ok', or the reason of the current failure: log lines are written only when it changes */
  private state = 'starting';

  constructor(
    private readonly ctx: InputContext,
    private readonly o: Readonly<PrometheusScrapeOptions>,
  ) {
    this.url = new URL(o.url);
    if (o.timeoutMs > o.intervalMs) throw new Error(`timeoutMs (${o.timeoutMs}) must not exceed intervalMs (${o.intervalMs})`);
    if (o.bearerToken !== '' && o.bearerTokenFile !== '') throw new Error('give bearerToken or bearerTokenFile, not both');
    const bad = o.prefix === '' ? undefined : checkMetricPath(o.prefix);
    if (bad) throw new Error(`prefix "${o.prefix}" is not a valid metric path: ${bad.detail}`);
    this.names = new NameCache(o.prefix === '' ? '' : `${o.prefix}.`);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.abort = new AbortController();
    // The first scrape runs now, without delaying start-up (an unreachable hub must not block boot).
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.inFlight;
    this.ctx.points.flush();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.inFlight = this.scrapeOnce().finally(() => {
        this.inFlight = undefined;
        // Interval between starts; a slow scrape delays the next one instead of overlapping it.
        this.schedule(Math.max(0, this.o.intervalMs - (Date.now() - started)));
      });
    }, delayMs);
  }

  /** One scrape; never throws. Exposed for tests. */
  async scrapeOnce(): Promise<void> {
    const t0 = performance.now();
    const now = Math.floor(this.ctx.now());
    this.ctx.stats.count('scrapes');
    const headers: Record<string, string> = {
      accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1',
      'accept-encoding': 'gzip',
      'user-agent': 'carbonado-prometheus-scrape',
    };
    const token = await this.token();
    if (token === undefined) return;
    if (token !== '') headers.authorization = `Bearer ${token}`;
    const r = await httpGet(this.url, { headers, timeoutMs: this.o.timeoutMs, maxBodyBytes: this.o.maxBodyBytes, tls: this.o.tls, signal: this.abort.signal });
    // A scrape cut short by stop() is not an endpoint failure.
    if (!r.ok && this.abort.signal.aborted) return;
    if (!r.ok) {
      // 401 and 403 get their own reasons: they are configuration problems, not outages.
      const reason = r.reason === 'http_status' ? (r.status === 401 || r.status === 403 ? `http_${r.status}` : 'http_status') : r.reason;
      this.fail(reason, r.detail);
      return;
    }
    let samples: ExpositionSample[];
    try {
      samples = parseExposition(r.body);
    } catch (err) {
      if (!(err instanceof ExpositionError)) throw err;
      this.fail(/truncated/.test(err.message) ? 'truncated' : 'parse', err.message);
      return;
    }
    let accepted = 0;
    for (const s of samples) {
      if (!Number.isFinite(s.value)) {
        // NaN is "no value" in Graphite too; ±Inf (a histogram's +Inf bucket *value* is finite) has
        // no useful place in a Whisper series and breaks JSON renderers.
        this.ctx.stats.addDropped('non_finite');
        continue;
      }
      const name = this.names.get(s);
      if (isBadName(name)) {
        this.ctx.stats.addDropped(name.bad);
        this.ctx.log.limited(`bad_name.${name.bad}`, 'exposed series has no valid Graphite name', { series: s.name, reason: name.detail });
        continue;
      }
      const time = this.o.timestamps === 'exposed' && s.timestampMs !== undefined ? Math.floor(s.timestampMs / 1000) : now;
      this.ctx.points.add(name, s.value, time);
      accepted++;
    }
    this.ctx.stats.addReceived(accepted);
    this.ctx.stats.gauge('up', 1);
    this.ctx.stats.gauge('scrape_samples', accepted);
    this.ctx.stats.gauge('scrape_duration_ms', Math.round(performance.now() - t0));
    this.ctx.stats.gauge('body_bytes', Buffer.byteLength(r.body));
    if (this.state !== 'ok') {
      if (this.state !== 'starting') this.ctx.log.info('scrape recovered', { url: this.o.url, samples: accepted });
      this.state = 'ok';
    }
  }

  /** The token for this scrape; undefined when its file cannot be read (counted as a failure). */
  private async token(): Promise<string | undefined> {
    if (this.o.bearerTokenFile === '') return this.o.bearerToken;
    try {
      return (await readFile(this.o.bearerTokenFile, 'utf8')).trim();
    } catch (err) {
      this.fail('token_file', (err as Error).message);
      return undefined;
    }
  }

  private fail(reason: string, detail: string): void {
    this.ctx.stats.addError(reason);
    this.ctx.stats.gauge('up', 0);
    if (this.state !== reason) {
      this.state = reason;
      this.ctx.log.warn('scrape failed; further failures for the same reason are counted, not logged', { url: this.o.url, reason, detail });
    }
  }
}
