/**
 * An AbortSignal as a flag in shared memory, for a worker thread: a message already queued to it
 * cannot be taken back, but the worker can look at the flag before each piece of work. `done()`
 * removes the listener once the work is answered (a signal shared by a request's many reads
 * would otherwise collect one per read).
 */
export function abortFlag(signal: AbortSignal | undefined): { flag: Int32Array | undefined; done: () => void } {
  if (!signal) return { flag: undefined, done: () => undefined };
  const flag = new Int32Array(new SharedArrayBuffer(4));
  if (signal.aborted) {
    Atomics.store(flag, 0, 1);
    return { flag, done: () => undefined };
  }
  const onAbort = () => Atomics.store(flag, 0, 1);
  signal.addEventListener('abort', onAbort, { once: true });
  return { flag, done: () => signal.removeEventListener('abort', onAbort) };
}

/** whether the flag (from abortFlag) says the caller gave up */
export function aborted(flag: Int32Array | undefined): boolean {
  return flag !== undefined && Atomics.load(flag, 0) !== 0;
}
