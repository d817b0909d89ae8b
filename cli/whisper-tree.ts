import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readConfigFile } from '../core/config/load.js';
import { validateConfig } from '../core/runtime/runtime.js';
import { builtinPlugins } from '../plugins/index.js';

/**
 * The dataDir of the whisper store `storeName` (default: the store queries read) in a config file;
 * `otherwise` tells the user what to do when that store is not a whisper store.
 */
export async function whisperDataDir(file: string, storeName: string | undefined, otherwise: string): Promise<string> {
  const { config } = await validateConfig(await readConfigFile(file), { plugins: builtinPlugins, file });
  const name = storeName ?? config.query.store ?? Object.keys(config.stores)[0];
  const store = name === undefined ? undefined : (config.stores[name] as { type?: string; dataDir?: string } | undefined);
  if (!store) throw new Error(`${file}: no store named "${name ?? ''}"`);
  if (store.type !== 'whisper' || typeof store.dataDir !== 'string') throw new Error(`${file}: store "${name}" is of type ${store.type ?? '?'}, not whisper (${otherwise})`);
  return store.dataDir;
}

/** Every `.wsp` file under `dir` (dot-directories such as carbonado's WAL left out), sorted. */
export async function listWsp(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.wsp')) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}
