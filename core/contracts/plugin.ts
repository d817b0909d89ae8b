import type { JSONSchemaType } from 'ajv';
import type { Bus } from '../bus/bus.js';
import type { Logger } from '../log.js';
import type { InstanceStats } from '../runtime/self-stats.js';
import type { InputInstance, InputContext } from './input.js';
import type { AggregatorInstance, AggregatorContext } from './aggregator.js';
import type { StoreInstance, StoreContext } from './store.js';
import type { OutputInstance, OutputContext, HttpMount } from './output.js';

export type PluginKind = 'input' | 'aggregator' | 'store' | 'output';

/** Config section that lists the instances of each kind. */
export const SECTION_OF_KIND = { input: 'inputs', aggregator: 'aggregators', store: 'stores', output: 'outputs' } as const;
export type ConfigSection = (typeof SECTION_OF_KIND)[PluginKind];

/** What every instance can do; the kind-specific contracts add to it. */
export interface Lifecycle {
  /** Begins I/O (bind sockets, open files, start timers). Rejecting fails start-up. */
  start(): Promise<void>;
  /** Undoes start and drains: after it resolves nothing of the instance runs or is held open. */
  stop(): Promise<void>;
  /** Optional: named counters and gauges beyond the harness's own (received, emitted, dropped, errors). */
  stats?(): Record<string, number>;
}

/**
 * A claim on a shared resource, checked across all instances at validation time so that two
 * instances cannot bind one port or write one directory:
 * `{ kind: 'tcp', host: '0.0.0.0', port: 2003 }`, `{ kind: 'dir', path: '/abs/data' }`.
 */
export type Resource =
  | { readonly kind: 'tcp' | 'udp'; readonly host: string; readonly port: number }
  | { readonly kind: 'dir' | 'file'; readonly path: string };

/** What the core hands every instance. Plugins never see the DI container. */
export interface BaseContext {
  /** `<kind section>.<instance name>`, e.g. `inputs.carbon`: used in logs, stats and errors */
  readonly id: string;
  readonly bus: Bus;
  readonly log: Logger;
  readonly stats: InstanceStats;
  /** the one HTTP server: any instance may mount read-only or admin routes (outputs mount the query API) */
  readonly http: HttpMount;
  /** Unix seconds, fractional; injectable so tests can control time */
  now(): number;
  /**
   * While `start()` runs: the instance is still making progress (a long walk of files, a log
   * replay), so `lifecycle.startTimeoutMs` counts again from now. Cheap enough to call per item;
   * does nothing outside `start()`. Optional so that contexts built elsewhere (tests) need not
   * provide it: call it as `ctx.startProgress?.()`.
   */
  startProgress?(): void;
}

export type ContextOf<K extends PluginKind> = K extends 'input'
  ? InputContext
  : K extends 'aggregator'
    ? AggregatorContext
    : K extends 'store'
      ? StoreContext
      : OutputContext;

export type InstanceOf<K extends PluginKind> = K extends 'input'
  ? InputInstance
  : K extends 'aggregator'
    ? AggregatorInstance
    : K extends 'store'
      ? StoreInstance
      : OutputInstance;

/**
 * The one thing a plugin module exports (as default export, or as an array of them).
 * `create` validates and builds; it does no I/O. Options arrive validated, with defaults, frozen.
 */
export interface PluginManifest<K extends PluginKind = PluginKind, O = any> {
  readonly kind: K;
  /** snake_case, after the protocol or format; the `type` used in config */
  readonly name: string;
  readonly since: string;
  readonly description: string;
  /** JSON schema of the options (without `type`); every property has a default or is required */
  readonly schema: JSONSchemaType<O> | Record<string, unknown>;
  /**
   * Optional: checks the schema cannot express (a regex compiles, one option below another).
   * No I/O. Each string returned is one problem, reported like a schema error by check-config
   * and at start-up.
   */
  validate?(options: Readonly<O>): string[];
  /**
   * Optional, for `carbonado check-config`: checks that need I/O, such as reading a file the options
   * name (start-up does the same work and fails on the same problems). `problems` are fatal,
   * `warnings` what start-up would log.
   */
  check?(options: Readonly<O>): Promise<{ problems: string[]; warnings: string[] }>;
  /** Optional: shared resources these options claim (ports, directories) */
  resources?(options: Readonly<O>): Resource[];
  create(ctx: ContextOf<K>, options: Readonly<O>): InstanceOf<K>;
}

/** Identity function that gives a manifest its types; what plugin authors call. */
export function definePlugin<K extends PluginKind, O>(manifest: PluginManifest<K, O>): PluginManifest<K, O> {
  return manifest;
}
