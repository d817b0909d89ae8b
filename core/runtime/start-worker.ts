import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module that sits beside the caller: `name` without extension,
 * `caller` the caller's import.meta.url. Built code runs `<name>.js`; from sources (tsx, tests,
 * `npm run dev`) the worker registers tsx itself first, because on Node 20 a worker does not
 * inherit the main thread's loader hooks.
 */
export function startModuleWorker(caller: string, name: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (caller.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const url = new URL(`./${name}.ts`, caller).href;
    return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, { ...options, eval: true });
  }
  return new Worker(new URL(`./${name}.js`, caller), options);
}
