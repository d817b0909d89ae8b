import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { instanceBus, isolated, type Bus } from '../bus/bus.js';
import { CarbonadoError, ErrorCode, withTimeout } from '../errors.js';
import { createCoreContainer, resolveCore, type Clock, type CoreServices } from '../container.js';
import type { LogSink, Logger } from '../log.js';
import type { BaseContext, Lifecycle, PluginKind, PluginManifest } from '../contracts/plugin.js';
import type { EventStore, QueryStore, StoreInstance } from '../contracts/store.js';
import type { AggregatorInstance } from '../contracts/aggregator.js';
import type { InputInstance } from '../contracts/input.js';
import { configWarnings } from '../config/warnings.js';
import type { CarbonadoConfig } from '../config/root-schema.js';
import { ConfigValidator, KIND_OF_SECTION, SECTIONS, type Section } from '../config/validate.js';
import { PluginRegistry } from './registry.js';
import { Batcher } from './batcher.js';
import { SampleBatcher } from './sample-batcher.js';
import { InstanceStats, flattenSnapshot, type InstanceSnapshot } from './self-stats.js';
import { SeriesIds } from '../model/series-ids.js';

/** sampling interval of the event-loop delay histogram (`process.event_loop_lag_ms`) */
const LOOP_DELAY_RESOLUTION_MS = 20;

export interface RuntimeOptions {
  /** built-in plugin manifests (plugins/index.ts) */
  readonly plugins: readonly PluginManifest[];
  /** label used in config error messages */
  readonly file?: string;
  readonly clock?: Clock;
  readonly logSink?: LogSink;
  readonly hostname?: string;
}

interface Running {
  readonly id: string;
  readonly section: Section;
  readonly kind: PluginKind;
  readonly manifest: PluginManifest;
  readonly instance: Lifecycle;
  readonly stats: InstanceStats;
  readonly points: Batcher;
  readonly samples: SampleBatcher;
  /** its validated options, as create() got them */
  readonly options: Readonly<Record<string, unknown>>;
  /** the instance's view of the bus (its listeners isolated, removed after it stops) */
  readonly bus: Bus & { detach(): void };
  started: boolean;
}

/** A bus listener of the instance threw or rejected: counted and logged, never propagated. */
function listenerThrew(stats: InstanceStats, log: Logger, err: unknown): void {
  stats.addError('listener_threw');
  log.limited('listener_threw', 'listener threw', { error: err as Error });
}

/** Start order; stop runs it backwards. */
const START_ORDER: readonly Section[] = ['stores', 'aggregators', 'outputs', 'inputs'];

/** Validates a raw config (loading third-party plugins it names) and returns it frozen. */
export async function validateConfig(raw: unknown, opts: Pick<RuntimeOptions, 'plugins' | 'file'>): Promise<{ config: Readonly<CarbonadoConfig>; registry: PluginRegistry }> {
  const file = opts.file ?? 'config';
  const registry = new PluginRegistry(opts.plugins);
  const validator = new ConfigValidator(registry);
  const core = validator.validateCore(raw, file);
  for (const spec of core.plugins) {
    try {
      await registry.load(spec);
    } catch (err) {
      (err as Error).message = `${file}: ${(err as Error).message}`;
      throw err;
    }
  }
  return { config: validator.validateInstances(core, file), registry };
}

/**
 * One carbonado: the core services, the plugin instances and their harness (batchers, stats,
 * bus subscriptions with isolation, pressure tracking, self-metrics).
 */
export class Runtime {
  readonly services: CoreServices;
  private readonly running: Running[] = [];
  private readonly pressured = new Set<string>();
  /** one id space for every input and store of this runtime (PointBatch.ids) */
  private readonly series = new SeriesIds();
  private state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created';
  private selfTimer: NodeJS.Timeout | undefined;
  /** while an instance starts: what resets its start timeout (ctx.startProgress) */
  private readonly startProgress = new Map<string, () => void>();
  private readonly coreStats = new InstanceStats('core');
  private readonly corePoints: Batcher;
  private readonly loopDelay: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastCpuAt = process.hrtime.bigint();
  private readonly unsubscribers: Array<() => void> = [];
  private unhandledRejections = 0;

  private constructor(config: Readonly<CarbonadoConfig>, registry: PluginRegistry, opts: RuntimeOptions) {
    const container = createCoreContainer(config, registry, {
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.logSink ? { logSink: opts.logSink } : {}),
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
      health: () => this.health(),
      stats: () => this.statsSnapshot(),
    });
    this.services = resolveCore(container);
    const { bus, config: cfg } = this.services;
    this.corePoints = new Batcher((b) => bus.emit('points', b, 'core'), cfg.batch);
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    this.createInstances();
  }

  /** Validates `raw` and builds every instance (no I/O yet). */
  static async create(raw: unknown, opts: RuntimeOptions): Promise<Runtime> {
    const { config, registry } = await validateConfig(raw, opts);
    return new Runtime(config, registry, opts);
  }

  get config(): Readonly<CarbonadoConfig> {
    return this.services.config;
  }

  private createInstances(): void {
    const { config, registry, bus, log, clock, http } = this.services;
    const storesById = new Map<string, QueryStore>();
    let queryStore: QueryStore | undefined;
    let eventStore: EventStore | undefined;
    const storeProxy: QueryStore = {
      find: (p, o) => this.requireQueryStore(queryStore).find(p, o),
      fetch: (n, f, u, o) => this.requireQueryStore(queryStore).fetch(n, f, u, o),
      get tags() {
        return queryStore?.tags;
      },
      get events() {
        return queryStore?.events;
      },
    };
    // every instance is built, and every refusal reported at once (an operator fixing a config
    // should not have to run check-config once per mistake)
    const refused: Array<{ id: string; message: string; cause: unknown }> = [];
    for (const section of START_ORDER) {
      const kind = KIND_OF_SECTION[section];
      for (const [name, inst] of Object.entries(config[section])) {
        const id = `${section}.${name}`;
        const manifest = registry.get(kind, inst.type)!;
        const stats = new InstanceStats(id);
        const instanceLog = log.child(id);
        const ownBus = instanceBus(bus, (err) => listenerThrew(stats, instanceLog, err));
        const points = new Batcher((b) => {
          stats.addEmitted(b.length);
          bus.emit('points', b, id);
        }, config.batch);
        const samples = new SampleBatcher((b) => {
          stats.addEmitted(b.length);
          bus.emit('samples', b, id);
        }, config.batch, clock);
        const base: BaseContext = { id, bus: ownBus, log: instanceLog, stats, http, now: clock, startProgress: () => this.startProgress.get(id)?.() };
        const ctx = {
          ...base,
          drainInputs: () => this.drainInputs(),
          points,
          samples,
          series: this.series,
          underPressure: () => this.pressured.size > 0,
          setPressure: (active: boolean) => this.setPressure(id, active),
          store: storeProxy,
          stores: storesById,
          get events() {
            return eventStore;
          },
        };
        const { type: _type, ...options } = inst;
        let instance: Lifecycle;
        try {
          instance = manifest.create(ctx as never, options) as Lifecycle;
        } catch (err) {
          refused.push({ id, message: `${id} (${inst.type}): ${(err as Error).message}`, cause: err });
          continue;
        }
        this.running.push({ id, section, kind, manifest, instance, stats, points, samples, options, bus: ownBus, started: false });
        if (kind === 'store') {
          const store = instance as StoreInstance;
          storesById.set(id, store);
          if (config.query.store === name || (config.query.store === undefined && !queryStore && store.holdsSeries !== false)) queryStore = store;
          if (config.query.eventStore === name || (config.query.eventStore === undefined && !eventStore && store.events)) eventStore = store.events;
        }
      }
    }
    if (refused.length > 0) {
      throw new CarbonadoError(ErrorCode.PLUGIN_START, refused.map((r) => r.message).join('\n'), { cause: refused[0]!.cause, plugin: refused[0]!.id });
    }
  }

  /** Emits every started input's pending samples now (see AggregatorContext.drainInputs). */
  private drainInputs(): void {
    for (const r of this.running) if (r.kind === 'input' && r.started) r.samples.flush();
  }

  /** Each configured instance with its manifest and validated options (for check-config). */
  instancesForCheck(): Array<{ id: string; manifest: PluginManifest; options: Readonly<Record<string, unknown>> }> {
    return this.running.map((r) => ({ id: r.id, manifest: r.manifest, options: r.options }));
  }

  private requireQueryStore(s: QueryStore | undefined): QueryStore {
    if (!s) throw Object.assign(new Error('no store is configured'), { status: 503, expose: true });
    return s;
  }

  private subscribe(): void {
    const { bus, log } = this.services;
    for (const r of this.running) {
      const instanceLog = log.child(r.id);
      const onError = (err: unknown) => listenerThrew(r.stats, instanceLog, err);
      if (r.kind === 'store') {
        const store = r.instance as StoreInstance;
        if (store.takesPoints === false) continue;
        const fn = isolated((batch: Parameters<StoreInstance['write']>[0]) => {
          r.stats.addReceived(batch.length);
          store.write(batch);
        }, onError);
        bus.on('points', fn);
        this.unsubscribers.push(() => bus.off('points', fn));
      } else if (r.kind === 'aggregator') {
        const agg = r.instance as AggregatorInstance;
        const fn = isolated((batch: Parameters<AggregatorInstance['add']>[0]) => {
          r.stats.addReceived(batch.length);
          agg.add(batch);
        }, onError);
        bus.on('samples', fn);
        this.unsubscribers.push(() => bus.off('samples', fn));
      }
    }
  }

  private setPressure(id: string, active: boolean): void {
    const had = this.pressured.has(id);
    if (active === had) return;
    if (active) this.pressured.add(id);
    else this.pressured.delete(id);
    this.services.log.info(active ? 'store under pressure: stream inputs pause' : 'store pressure cleared', { store: id });
    this.services.bus.emit('pressure', { source: id, active });
  }

  /** Starts the HTTP server, then stores → aggregators → outputs → inputs, each under a timeout. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`runtime cannot start from state ${this.state}`);
    this.state = 'starting';
    const { http, log, config, bus } = this.services;
    this.subscribe();
    try {
      const url = await http.listen();
      log.info(`started http ${url}`);
      for (const w of configWarnings(config)) log.warn(w);
      for (const r of this.running) {
        await withTimeout(r.instance.start(), config.lifecycle.startTimeoutMs, `${r.id} start`, r.id, (extend) => this.startProgress.set(r.id, extend))
          .catch((err: Error) => {
            if (err instanceof CarbonadoError) throw err;
            throw new CarbonadoError(ErrorCode.PLUGIN_START, `${r.id} (${r.manifest.name}): cannot start: ${err.message}`, { cause: err, plugin: r.id });
          })
          .finally(() => this.startProgress.delete(r.id));
        r.started = true;
        const where = (r.instance as InputInstance).listening?.() ?? [];
        log.info(`started ${r.id} (${r.manifest.name})${where.length ? ` ${where.join(' ')}` : ''}`);
        bus.emit('plugin.started', r.id);
      }
    } catch (err) {
      this.state = 'stopping';
      await this.stopStarted();
      this.state = 'stopped';
      throw err;
    }
    this.loopDelay.enable();
    if (config.selfMetrics.intervalSecs > 0) {
      this.selfTimer = setInterval(() => this.publishSelfMetrics(), config.selfMetrics.intervalSecs * 1000);
      this.selfTimer.unref();
    }
    this.state = 'running';
  }

  /** Drains and stops: inputs → outputs → aggregators (final flush) → stores (write out). */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    if (this.selfTimer) clearInterval(this.selfTimer);
    this.selfTimer = undefined;
    await this.stopStarted();
    this.state = 'stopped';
  }

  private async stopStarted(): Promise<void> {
    const { log, config, http, bus } = this.services;
    const order = [...this.running].reverse();
    let httpClosed = false;
    for (const r of order) {
      if ((r.kind === 'aggregator' || r.kind === 'store') && !httpClosed) {
        // inputs and outputs are down: no more requests or data can arrive, and requests in
        // progress finish while the stores still answer (without an aggregator the stores came
        // next, and renders in progress read closed stores: 200 with no series)
        await http.close();
        httpClosed = true;
      }
      if (!r.started) {
        r.bus.detach();
        continue;
      }
      try {
        await withTimeout(r.instance.stop(), config.lifecycle.stopTimeoutMs, `${r.id} stop`, r.id);
      } catch (err) {
        log.error(`${r.id}: stop failed: ${(err as Error).message}`);
      }
      // whatever the instance produced while draining goes out before the next stage stops
      r.points.close();
      r.samples.close();
      r.bus.detach();
      r.started = false;
      bus.emit('plugin.stopped', r.id);
      log.info(`stopped ${r.id}`, { received: r.stats.received, emitted: r.stats.emitted, dropped: r.stats.droppedTotal() });
    }
    if (!httpClosed) await http.close();
    http.unmountAll();
    this.loopDelay.disable();
    for (const u of this.unsubscribers.splice(0)) u();
  }

  /**
   * A promise rejected with nobody to catch it (a plugin's forgotten `await`, say). Node 20 would
   * end the process and lose the cache; the server counts it, logs it and keeps running.
   */
  reportUnhandledRejection(reason: unknown): void {
    this.unhandledRejections++;
    this.services.log.limited('unhandled_rejection', 'unhandled promise rejection (a bug: please report it)', {
      error: reason instanceof Error ? reason : new Error(String(reason)),
    });
  }

  listening(id: string): string[] {
    const r = this.running.find((x) => x.id === id);
    return (r?.instance as InputInstance | undefined)?.listening?.() ?? [];
  }

  httpUrl(): string {
    return this.services.http.address();
  }

  instance<T = Lifecycle>(id: string): T | undefined {
    return this.running.find((x) => x.id === id)?.instance as T | undefined;
  }

  private health(): { status: 'ok' | 'starting' | 'stopping'; [k: string]: unknown } {
    const status = this.state === 'running' ? 'ok' : this.state === 'starting' || this.state === 'created' ? 'starting' : 'stopping';
    return { status, pressure: [...this.pressured] };
  }

  /** GET /stats: every instance's counters and the process's own figures. */
  statsSnapshot(): { instances: Record<string, InstanceSnapshot & { type: string }>; process: Record<string, number> } {
    const instances: Record<string, InstanceSnapshot & { type: string }> = {};
    for (const r of this.running) {
      let extra: Record<string, number> | undefined;
      try {
        extra = r.instance.stats?.();
      } catch {
        extra = undefined;
      }
      instances[r.id] = { type: r.manifest.name, ...r.stats.snapshot(extra) };
    }
    return { instances, process: this.processFigures() };
  }

  private processFigures(): Record<string, number> {
    // reads /proc/self/stat: out of file descriptors (EMFILE) it throws, and this runs from a
    // timer, where a throw ended the process
    let mem: { rss?: number; heapUsed: number };
    try {
      mem = process.memoryUsage();
    } catch {
      mem = { heapUsed: getHeapStatistics().used_heap_size };
    }
    const nowNs = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(nowNs - this.lastCpuAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = nowNs;
    // the histogram holds the time between its timer's ticks, i.e. the sampling interval plus the lag
    const lagOf = (ns: number): number => (this.loopDelay.count > 0 ? Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0);
    const lagMs = lagOf(this.loopDelay.mean);
    const lagMaxMs = lagOf(this.loopDelay.max);
    return {
      ...(mem.rss !== undefined ? { rss_bytes: mem.rss } : {}),
      heap_used_bytes: mem.heapUsed,
      cpu_user_percent: elapsedUs > 0 ? (100 * cpu.user) / elapsedUs : 0,
      cpu_system_percent: elapsedUs > 0 ? (100 * cpu.system) / elapsedUs : 0,
      event_loop_lag_ms: lagMs,
      event_loop_lag_max_ms: lagMaxMs,
      uptime_secs: process.uptime(),
      unhandled_rejections: this.unhandledRejections,
      http_bodies_refused: this.services.http.bodiesRefused,
    };
  }

  /** Publishes the counters as points (like carbon.agents.<host>.*) so they land in the stores. */
  publishSelfMetrics(): void {
    const { config, clock, hostname } = this.services;
    const prefix = config.selfMetrics.prefix.replace('{hostname}', hostname.replace(/\./g, '_'));
    const ts = Math.floor(clock());
    const snap = this.statsSnapshot();
    for (const [id, s] of Object.entries(snap.instances)) {
      for (const [k, v] of flattenSnapshot(s)) this.corePoints.add(`${prefix}${id}.${k}`, v, ts);
    }
    for (const [k, v] of Object.entries(snap.process)) this.corePoints.add(`${prefix}process.${k}`, v, ts);
    this.loopDelay.reset();
    this.corePoints.flush();
    this.coreStats.addEmitted(1);
  }
}

export { SECTIONS };
