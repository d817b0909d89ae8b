/**
 * The carbon_relay store: every point batch is routed (rules, then the consistent-hash ring) and
 * queued per destination; destinations send on their own connections. Write-only: it answers
 * find and fetch with nothing, so it is never the store queries read.
 */
import { join } from 'node:path';
import type { FindNode, PointBatch, SeriesData, StoreContext, StoreInstance } from '../../../core/index.js';
import { formatMember } from '../../shared/ring/ring.js';
import { Destination } from './destination.js';
import type { CarbonRelayOptions } from './options.js';
import { Router } from './router.js';
import { SpillQueue } from './spill.js';

/** A destination as a self-metric word: `127.0.0.1:2003=a` → `127_0_0_1_2003_a`. */
export function destinationLabel(spec: string): string {
  return spec.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
}

export class CarbonRelay implements StoreInstance {
  /** keeps no series: never the default query store */
  readonly holdsSeries = false;
  readonly router: Router;
  private readonly dests: Destination[];
  private readonly touched: Uint8Array;
  private stopped = false;

  constructor(
    private readonly ctx: StoreContext,
    private readonly o: Readonly<CarbonRelayOptions>,
  ) {
    this.router = new Router(o);
    const chunkPoints = o.protocol === 'pickle' ? o.pointsPerFrame : 1000;
    this.dests = this.router.members.map((m) => {
      const label = destinationLabel(formatMember(m));
      const spill =
        o.overflow === 'disk'
          ? new SpillQueue(join(o.spillDir, destinationLabel(ctx.id), label), o.spillMaxBytes, (n) => {
              ctx.stats.addDropped('disk_full', n);
              ctx.stats.count(`${label}.dropped.disk_full`, n);
            })
          : undefined;
      return new Destination(
        {
          member: m,
          label,
          protocol: o.protocol,
          pointsPerFrame: o.pointsPerFrame,
          chunkPoints: Math.min(chunkPoints, Math.max(1, o.memoryQueuePoints >> 2)),
          memoryQueuePoints: o.memoryQueuePoints,
          spill,
          connectTimeoutMs: o.connectTimeoutMs,
          reconnectMinMs: o.reconnectMinMs,
          reconnectMaxMs: Math.max(o.reconnectMinMs, o.reconnectMaxMs),
          resendWindowMs: o.resendWindowMs,
        },
        ctx.stats,
        ctx.log,
      );
    });
    this.touched = new Uint8Array(this.dests.length);
  }

  async start(): Promise<void> {
    for (const d of this.dests) d.start();
  }

  write(batch: PointBatch): void {
    const n = batch.length;
    // `received` is counted by the runtime, which hands every store its batches
    if (this.stopped) {
      this.ctx.stats.addDropped('stopped', n);
      return;
    }
    const { names, values, times } = batch;
    const touched = this.touched;
    let ruleDrops = 0;
    let noRoute = 0;
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      const where = this.router.route(name);
      if (typeof where === 'string') {
        if (where === 'rule_drop') ruleDrops++;
        else noRoute++;
        continue;
      }
      for (let k = 0; k < where.length; k++) {
        const j = where[k]!;
        this.dests[j]!.append(name, values[i]!, times[i]!);
        touched[j] = 1;
      }
    }
    if (ruleDrops > 0) this.ctx.stats.addDropped('rule_drop', ruleDrops);
    if (noRoute > 0) this.ctx.stats.addDropped('no_route', noRoute);
    for (let j = 0; j < touched.length; j++) {
      if (touched[j]) {
        touched[j] = 0;
        this.dests[j]!.schedule();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.dests.map((d) => d.stop(this.o.drainTimeoutMs)));
  }

  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.dests) d.gauges(out);
    return out;
  }

  // Write-only: a relay holds nothing to read. graphite-web CLUSTER_SERVERS or a store tier answer reads.
  async find(_pattern: string): Promise<FindNode[]> {
    return [];
  }

  async fetch(_names: readonly string[], _from: number, _until: number): Promise<SeriesData[]> {
    return [];
  }
}
