import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CarbonadoError, ErrorCode } from '../errors.js';
import type { PluginKind, PluginManifest } from '../contracts/plugin.js';

const KINDS: readonly PluginKind[] = ['input', 'aggregator', 'store', 'output'];

/** Known plugins by kind and name. Built-ins and third-party modules register the same way. */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, PluginManifest>>(KINDS.map((k) => [k, new Map()]));

  constructor(manifests: readonly PluginManifest[] = []) {
    for (const m of manifests) this.register(m, 'built-in');
  }

  register(m: PluginManifest, origin: string): void {
    if (!m || typeof m !== 'object' || !KINDS.includes(m.kind) || typeof m.name !== 'string' || typeof m.create !== 'function' || typeof m.schema !== 'object') {
      throw new CarbonadoError(ErrorCode.PLUGIN_INVALID, `${origin}: not a plugin manifest (needs kind, name, schema and create)`);
    }
    if (!/^[a-z][a-z0-9_]*$/.test(m.name)) {
      throw new CarbonadoError(ErrorCode.PLUGIN_INVALID, `${origin}: plugin name "${m.name}" must be snake_case`);
    }
    const map = this.byKind.get(m.kind)!;
    if (map.has(m.name)) throw new CarbonadoError(ErrorCode.PLUGIN_INVALID, `${origin}: a ${m.kind} plugin named "${m.name}" is already registered`);
    map.set(m.name, m);
  }

  get(kind: PluginKind, name: string): PluginManifest | undefined {
    return this.byKind.get(kind)!.get(name);
  }

  names(kind: PluginKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort();
  }

  all(): PluginManifest[] {
    return KINDS.flatMap((k) => [...this.byKind.get(k)!.values()]);
  }

  /** Loads a third-party module (npm package name or file path) and registers what it exports. */
  async load(spec: string, baseDir = process.cwd()): Promise<PluginManifest[]> {
    let mod: Record<string, unknown>;
    try {
      mod = await importPlugin(spec, baseDir);
    } catch (err) {
      throw new CarbonadoError(ErrorCode.PLUGIN_LOAD, `plugins: cannot load "${spec}": ${(err as Error).message}`, { cause: err });
    }
    const exported = mod.default ?? mod.plugin ?? mod.plugins;
    const list = (Array.isArray(exported) ? exported : [exported]) as PluginManifest[];
    for (const m of list) this.register(m, `plugins: "${spec}"`);
    return list;
  }
}

async function importPlugin(spec: string, baseDir: string): Promise<Record<string, unknown>> {
  if (spec.startsWith('.') || isAbsolute(spec)) return import(pathToFileURL(resolve(baseDir, spec)).href);
  try {
    return await import(spec);
  } catch (err) {
    // not resolvable from carbonado's own location: try from the working directory's node_modules
    const req = createRequire(resolve(baseDir, 'package.json'));
    let file: string;
    try {
      file = req.resolve(spec);
    } catch {
      throw err;
    }
    return import(pathToFileURL(file).href);
  }
}
