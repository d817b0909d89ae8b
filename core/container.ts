import { Container } from 'inversify';
import { hostname } from 'node:os';
import { createBus, type Bus } from './bus/bus.js';
import { Logger, type LogSink } from './log.js';
import { HttpServer } from './http/server.js';
import type { CarbonadoConfig } from './config/root-schema.js';
import type { PluginRegistry } from './runtime/registry.js';

/**
 * Service tokens of the core (Theia style: a Symbol per service). Plugins never see the
 * container: the runtime builds each plugin's narrow context from these services.
 */
export const Tokens = {
  Config: Symbol('Config'),
  Registry: Symbol('Registry'),
  Bus: Symbol('Bus'),
  Logger: Symbol('Logger'),
  Clock: Symbol('Clock'),
  Http: Symbol('Http'),
  Hostname: Symbol('Hostname'),
} as const;

export type Clock = () => number;

export interface CoreServices {
  config: Readonly<CarbonadoConfig>;
  registry: PluginRegistry;
  bus: Bus;
  log: Logger;
  clock: Clock;
  http: HttpServer;
  hostname: string;
}

export interface ContainerOptions {
  clock?: Clock;
  logSink?: LogSink;
  hostname?: string;
  /** GET /health and GET /stats answers, supplied by the runtime once it exists */
  health: () => { status: 'ok' | 'starting' | 'stopping'; [k: string]: unknown };
  stats: () => unknown;
}

export function createCoreContainer(config: Readonly<CarbonadoConfig>, registry: PluginRegistry, opts: ContainerOptions): Container {
  const c = new Container({ defaultScope: 'Singleton' });
  c.bind<Readonly<CarbonadoConfig>>(Tokens.Config).toConstantValue(config);
  c.bind<PluginRegistry>(Tokens.Registry).toConstantValue(registry);
  c.bind<Clock>(Tokens.Clock).toConstantValue(opts.clock ?? (() => Date.now() / 1000));
  c.bind<string>(Tokens.Hostname).toConstantValue(opts.hostname ?? hostname());
  c.bind<Bus>(Tokens.Bus).toDynamicValue(() => createBus());
  c.bind<Logger>(Tokens.Logger).toDynamicValue((ctx) => {
    const cfg = ctx.get<Readonly<CarbonadoConfig>>(Tokens.Config);
    return new Logger('core', cfg.log.level, cfg.log.format, opts.logSink ?? process.stderr);
  });
  c.bind<HttpServer>(Tokens.Http).toDynamicValue((ctx) => {
    const cfg = ctx.get<Readonly<CarbonadoConfig>>(Tokens.Config);
    return new HttpServer(cfg.http.host, cfg.http.port, ctx.get<Logger>(Tokens.Logger).child('http'), opts.health, opts.stats, cfg.http.maxConnections, cfg.http.maxBodyBytes);
  });
  return c;
}

export function resolveCore(c: Container): CoreServices {
  return {
    config: c.get(Tokens.Config),
    registry: c.get(Tokens.Registry),
    bus: c.get(Tokens.Bus),
    log: c.get(Tokens.Logger),
    clock: c.get(Tokens.Clock),
    http: c.get(Tokens.Http),
    hostname: c.get(Tokens.Hostname),
  };
}
