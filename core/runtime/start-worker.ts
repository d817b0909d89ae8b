import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { bundledWorker } from './worker-bundle.js';

/**
 * Starts a worker thread on a module that sits beside the caller: `name` without extension,
 * `caller` the caller's import.meta.url. Built code runs `<name>.js`. From sources (tsx, tests,
 * `npm run dev`) the worker runs a bundle of the module's sources (worker-bundle.ts), without
 * tsx; where esbuild is missing it registers tsx itself first, because on Node 20 a worker does
 * not inherit the main thread's loader hooks.
 */
export function startModuleWorker(caller: string, name: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (caller.endsWith('.ts')) {
    const url = new URL(`./${name}.ts`, caller);
    const bundle = bundledWorker(fileURLToPath(url));
    // the bundle is plain JavaScript: tsx's `--import`, inherited from the main thread, would
    // only start its loader again in the worker
    if (bundle !== undefined) {
      const w = workerOn(bundle, options, withoutTsx(options.execArgv ?? process.execArgv));
      if (w !== undefined) return w;
    }
    const api = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { ...options, eval: true });
  }
  return new Worker(new URL(`./${name}.js`, caller), options);
}

/**
 * A worker on the bundle. A flag a worker may not be given (V8's, like --expose-gc or
 * --max-old-space-size, which inheriting passes over) is dropped, as it applies to the whole
 * process anyway; undefined when the refusal names no flag we gave (the caller falls back to tsx).
 */
function workerOn(bundle: string, options: Omit<WorkerOptions, 'eval'>, execArgv: string[]): Worker | undefined {
  try {
    return new Worker(bundle, { ...options, execArgv });
  } catch (err) {
    const invalid = invalidFlags(err);
    if (invalid === undefined) throw err;
    const kept = execArgv.filter((a) => !invalid.has(a.split('=')[0]!));
    return kept.length < execArgv.length ? workerOn(bundle, options, kept) : undefined;
  }
}

/** `argv` without tsx's loader flags; with source maps on, so that stack traces name the .ts sources */
function withoutTsx(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--import' || a === '--require' || a === '--loader' || a === '-r') && /^tsx(\/|$)/.test(argv[i + 1] ?? '')) i++;
    else if (!/^--(import|require|loader)=tsx(\/|$)/.test(a)) out.push(a);
  }
  if (!out.includes('--enable-source-maps')) out.push('--enable-source-maps');
  return out;
}

/** the flags a Worker refused (ERR_WORKER_INVALID_EXEC_ARGV: "…execArgv flags: --a, --b") */
function invalidFlags(err: unknown): Set<string> | undefined {
  if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return undefined;
  const list = /flags: (.*)$/.exec((err as Error).message)?.[1];
  return list === undefined ? undefined : new Set(list.split(', ').map((f) => f.trim().split('=')[0]!));
}
