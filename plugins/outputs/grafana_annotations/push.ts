import type { EventRecord, InstanceStats, Logger } from '../../../core/index.js';

export interface PushTarget {
  /** the full endpoint, `<grafana>/api/annotations` */
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly dashboardUid: string;
  readonly panelId: number;
  readonly tags: readonly string[];
  readonly queueMax: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number;
}

/** The body of Grafana's `POST /api/annotations` (time in milliseconds). */
export interface GrafanaAnnotation {
  time: number;
  text: string;
  tags: string[];
  dashboardUID?: string;
  panelId?: number;
}

const MAX_RETRY_DELAY_MS = 60_000;

export function toGrafanaAnnotation(e: EventRecord, target: Pick<PushTarget, 'dashboardUid' | 'panelId' | 'tags'>): GrafanaAnnotation {
  const a: GrafanaAnnotation = {
    time: Math.round(e.when * 1000),
    text: e.data === '' ? e.what : `${e.what}\n\n${e.data}`,
    tags: [...new Set([...e.tags, ...target.tags])],
  };
  if (target.dashboardUid !== '') {
    a.dashboardUID = target.dashboardUid;
    if (target.panelId > 0) a.panelId = target.panelId;
  }
  return a;
}

type Outcome = 'sent' | 'retry' | 'rejected';

/**
 * Sends stored events on to Grafana, one at a time, from a bounded queue. `enqueue` never waits:
 * a full queue, a rejected annotation and exhausted retries are each counted as drops, and the
 * event itself stays stored either way (push is a copy, not the record).
 */
export class GrafanaPusher {
  private readonly queue: EventRecord[] = [];
  private running: Promise<void> | undefined;
  private closing = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;

  constructor(
    private readonly target: PushTarget,
    private readonly stats: InstanceStats,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  enqueue(e: EventRecord): void {
    if (this.closing) {
      this.stats.addDropped('push_shutdown');
      return;
    }
    if (this.queue.length >= this.target.queueMax) {
      this.stats.addDropped('push_queue_full');
      this.log.limited('push_queue_full', 'Grafana push queue full; event stored but not pushed', { queueMax: this.target.queueMax });
      return;
    }
    this.queue.push(e);
    this.running ??= this.drain();
  }

  /**
   * Stops retrying (an event waiting for a retry is dropped) and gives each queued event that
   * was never tried one attempt, within `timeoutMs` in all; then aborts the request in flight and
   * counts whatever is left as dropped (push_shutdown).
   */
  async stop(): Promise<void> {
    this.closing = true;
    this.wake?.();
    const running = this.running;
    if (running) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => {
        timer = setTimeout(r, this.target.timeoutMs);
      });
      await Promise.race([running, deadline]);
      clearTimeout(timer);
      this.abort.abort();
      await running;
    }
  }

  private async drain(): Promise<void> {
    // Never finish synchronously, so `running` is assigned before the finally below clears it.
    // Clearing it in the same step as the last empty-queue check means an event enqueued right
    // after always starts a new drain instead of waiting in the queue.
    await null;
    try {
      while (this.queue.length > 0) {
        if (this.abort.signal.aborted) {
          this.stats.addDropped('push_shutdown', this.queue.length);
          this.queue.length = 0;
          return;
        }
        await this.deliver(this.queue[0]!);
        this.queue.shift();
      }
    } finally {
      this.running = undefined;
    }
  }

  private async deliver(e: EventRecord): Promise<void> {
    const body = JSON.stringify(toGrafanaAnnotation(e, this.target));
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.send(body, e.id);
      if (outcome === 'sent') {
        this.stats.count('push_sent');
        return;
      }
      if (outcome === 'rejected') {
        this.stats.addDropped('push_rejected');
        return;
      }
      if (attempt >= this.target.retries || this.closing) {
        this.stats.addDropped(this.closing ? 'push_shutdown' : 'push_failed');
        this.log.limited('push_failed', 'Grafana push failed after retries; event stored but not pushed', { id: e.id, attempts: attempt + 1 });
        return;
      }
      this.stats.count('push_retries');
      await this.sleep(Math.min(this.target.retryDelayMs * 2 ** attempt, MAX_RETRY_DELAY_MS));
      if (this.closing) {
        // stop() woke us: no retries once stopping (events never tried still get their one attempt)
        this.stats.addDropped('push_shutdown');
        return;
      }
    }
  }

  private async send(body: string, id: number): Promise<Outcome> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.target.token !== undefined) headers['authorization'] = `Bearer ${this.target.token}`;
    try {
      const res = await this.fetchImpl(this.target.endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.target.timeoutMs)]),
      });
      // the answer is not needed; cancelling frees the connection without reading a large body
      await res.body?.cancel().catch(() => {});
      if (res.ok) return 'sent';
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      this.stats.addError(retryable ? 'push_http_retryable' : 'push_http_rejected');
      this.log.limited(`push_http_${res.status}`, 'Grafana refused an annotation', { id, status: res.status });
      return retryable ? 'retry' : 'rejected';
    } catch (err) {
      this.stats.addError('push_network');
      const e = err as Error & { cause?: { code?: string } };
      this.log.limited('push_network', 'Grafana push request failed', { id, error: e.cause?.code ?? e.message });
      return 'retry';
    }
  }

  /** A backoff that stop() can cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        r();
      }
      this.wake = done;
    });
  }
}
