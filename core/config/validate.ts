import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { resolve } from 'node:path';
import { CarbonadoError, ErrorCode } from '../errors.js';
import { SECTION_OF_KIND, type PluginKind, type PluginManifest, type Resource } from '../contracts/plugin.js';
import type { PluginRegistry } from '../runtime/registry.js';
import { coreSchema, type CarbonadoConfig, type InstanceConfig } from './root-schema.js';

export const KIND_OF_SECTION = { inputs: 'input', aggregators: 'aggregator', stores: 'store', outputs: 'output' } as const;
export type Section = keyof typeof KIND_OF_SECTION;
export const SECTIONS = Object.keys(KIND_OF_SECTION) as Section[];

/** One Ajv for the core schema and every plugin schema: compiled once per manifest. */
export class ConfigValidator {
  private readonly ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, allowUnionTypes: true });
  private readonly core: ValidateFunction;
  private readonly compiled = new WeakMap<PluginManifest, ValidateFunction>();

  constructor(private readonly registry: PluginRegistry) {
    this.ajv.addKeyword({ keyword: 'x-secret' });
    this.core = this.ajv.compile(coreSchema);
  }

  /** Validates the core part: structure, sections, instance names. Applies defaults. */
  validateCore(raw: unknown, file: string): CarbonadoConfig {
    const cfg = structuredClone(raw ?? {});
    if (typeof cfg !== 'object' || Array.isArray(cfg)) throw invalid(file, ['the config must be a mapping of sections (http, inputs, stores, …)']);
    if (!this.core(cfg)) throw invalid(file, (this.core.errors ?? []).filter((e) => !(e.keyword === 'pattern' && e.propertyName !== undefined)).map(formatCoreError));
    return cfg as unknown as CarbonadoConfig;
  }

  /**
   * Validates every instance against its plugin's schema (defaults applied), then the
   * cross-instance rules: references and resource conflicts. Returns a deep-frozen config.
   */
  validateInstances(cfg: CarbonadoConfig, file: string): Readonly<CarbonadoConfig> {
    const problems: string[] = [];
    for (const section of SECTIONS) {
      const kind = KIND_OF_SECTION[section];
      for (const [name, inst] of Object.entries(cfg[section])) {
        const where = `${section}.${name}`;
        const manifest = this.registry.get(kind, inst.type);
        if (!manifest) {
          const other = SECTIONS.find((s) => this.registry.get(KIND_OF_SECTION[s], inst.type));
          const known = this.registry.names(kind).join(', ') || 'none';
          problems.push(
            other
              ? `${where}: "${inst.type}" is ${KIND_OF_SECTION[other] === 'input' || KIND_OF_SECTION[other] === 'aggregator' ? 'an' : 'a'} ${KIND_OF_SECTION[other]} plugin; list it under ${other}`
              : `${where}: unknown ${kind} plugin type "${inst.type}" (known: ${known})`,
          );
          continue;
        }
        const { type, ...options } = inst;
        const validate = this.validatorFor(manifest);
        if (!validate(options)) {
          for (const e of validate.errors ?? []) problems.push(formatError(e, `${where} (${type}): `));
          continue;
        }
        let extra: string[] = [];
        try {
          extra = manifest.validate?.(options) ?? [];
        } catch (err) {
          extra = [(err as Error).message];
        }
        if (extra.length) {
          for (const e of extra) problems.push(`${where} (${type}): ${e}`);
          continue;
        }
        (cfg[section] as Record<string, InstanceConfig>)[name] = { type, ...options };
      }
    }
    if (cfg.query.store !== undefined && !(cfg.query.store in cfg.stores)) {
      problems.push(`query.store: "${cfg.query.store}" is not a store instance (stores: ${Object.keys(cfg.stores).join(', ') || 'none'})`);
    }
    if (cfg.query.eventStore !== undefined && !(cfg.query.eventStore in cfg.stores)) {
      problems.push(`query.eventStore: "${cfg.query.eventStore}" is not a store instance`);
    }
    if (problems.length === 0) problems.push(...this.resourceConflicts(cfg));
    if (problems.length) throw invalid(file, problems);
    return deepFreeze(cfg);
  }

  /** Every resource claimed by the config, with the instance that claims it. */
  resources(cfg: CarbonadoConfig): Array<{ owner: string; resource: Resource }> {
    const out: Array<{ owner: string; resource: Resource }> = [{ owner: 'http', resource: { kind: 'tcp', host: cfg.http.host, port: cfg.http.port } }];
    for (const section of SECTIONS) {
      for (const [name, inst] of Object.entries(cfg[section])) {
        const m = this.registry.get(KIND_OF_SECTION[section], inst.type);
        if (!m?.resources) continue;
        const { type: _t, ...options } = inst;
        for (const r of m.resources(options)) out.push({ owner: `${section}.${name}`, resource: r });
      }
    }
    return out;
  }

  private resourceConflicts(cfg: CarbonadoConfig): string[] {
    const claims = this.resources(cfg);
    const problems: string[] = [];
    for (let i = 0; i < claims.length; i++) {
      for (let j = i + 1; j < claims.length; j++) {
        const a = claims[i]!, b = claims[j]!;
        if (clash(a.resource, b.resource)) problems.push(`${b.owner}: ${describe(b.resource)} is already claimed by ${a.owner}`);
      }
    }
    return problems;
  }

  private validatorFor(m: PluginManifest): ValidateFunction {
    let v = this.compiled.get(m);
    if (!v) {
      try {
        v = this.ajv.compile(m.schema);
      } catch (err) {
        throw new CarbonadoError(ErrorCode.PLUGIN_INVALID, `plugin ${m.kind} "${m.name}": invalid options schema: ${(err as Error).message}`);
      }
      this.compiled.set(m, v);
    }
    return v;
  }
}

type NetResource = Extract<Resource, { port: number }>;
type PathResource = Extract<Resource, { path: string }>;
function isNet(r: Resource): r is NetResource {
  return r.kind === 'tcp' || r.kind === 'udp';
}

function clash(a: Resource, b: Resource): boolean {
  if (isNet(a) || isNet(b)) {
    if (!isNet(a) || !isNet(b) || b.kind !== a.kind || a.port === 0 || a.port !== b.port) return false;
    return a.host === b.host || isWildcard(a.host) || isWildcard(b.host);
  }
  return pathClash(a as PathResource, b as PathResource);
}

function pathClash(a: PathResource, b: PathResource): boolean {
  const pa = resolve(a.path), pb = resolve(b.path);
  if (pa === pb) return true;
  // a directory contains the other resource
  return (a.kind === 'dir' && pb.startsWith(`${pa}/`)) || (b.kind === 'dir' && pa.startsWith(`${pb}/`));
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function describe(r: Resource): string {
  if (isNet(r)) return `${r.kind} port ${r.port} on ${r.host}`;
  return `${r.kind} ${resolve((r as PathResource).path)}`;
}

function formatError(e: ErrorObject, prefix: string): string {
  const path = e.instancePath || '/';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${prefix}${join(e.instancePath, String(e.params.additionalProperty))}: unknown key`;
    case 'required':
      return `${prefix}${join(e.instancePath, String(e.params.missingProperty))} is required`;
    case 'enum':
      return `${prefix}${path} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'propertyNames':
      return `${prefix}${e.instancePath ? `${e.instancePath}: ` : ''}instance name "${String(e.params.propertyName)}" must start with a letter or digit and hold only letters, digits, _ or -`;
    case 'pattern':
      if (e.propertyName !== undefined) return `${prefix}${join(e.instancePath, e.propertyName)}: invalid name`;
      return `${prefix}${path} ${e.message}`;
    default:
      return `${prefix}${path} ${e.message}`;
  }
}

/** Core errors name the section (and instance) first, like instance errors: `http: /port must be <= 65535`. */
function formatCoreError(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1);
  if (parts.length === 0) {
    if (e.keyword === 'additionalProperties') {
      return `${String(e.params.additionalProperty)}: unknown section (known: ${Object.keys(coreSchema.properties).filter((k) => k !== '$schema').join(', ')})`;
    }
    return formatError(e, '');
  }
  const section = parts[0]!;
  const isInstances = section in KIND_OF_SECTION && parts.length >= 2;
  const owner = isInstances ? `${section}.${parts[1]}` : section;
  const rest = `/${parts.slice(isInstances ? 2 : 1).join('/')}`;
  return formatError({ ...e, instancePath: rest === '/' ? '' : rest }, `${owner}: `);
}

function join(base: string, key: string): string {
  return `${base}/${key}`;
}

function invalid(file: string, problems: string[]): CarbonadoError {
  const unique = [...new Set(problems)];
  return new CarbonadoError(ErrorCode.CONFIG_INVALID, unique.map((p) => `${file}: ${p}`).join('\n'));
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export function sectionOf(kind: PluginKind): Section {
  return SECTION_OF_KIND[kind];
}
