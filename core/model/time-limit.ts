import { Script, createContext } from 'node:vm';
import { PatternTooBroad } from './pattern-too-broad.js';

/**
 * Most milliseconds one pass of a client's regular expression over names may take. A regex such as
 * `(a+)+$` or `^(.|.)*!` backtracks exponentially, and JavaScript cannot interrupt a running regex
 * but by terminating the script that runs it: 27 characters held the event loop 1.4 s, 40 for
 * hours (graphite-web's Python re backtracks as badly, but blocks one worker, not ingestion).
 */
export const REGEX_TIME_LIMIT_MS = 1000;

// one context and one script for every call: a run costs ~60 µs (a watchdog thread), so callers
// wrap a whole loop over names, not each match
const context = createContext({ run: undefined as undefined | (() => unknown) });
const script = new Script('run()');

/**
 * Runs `fn` (synchronous) and stops it once it has run `ms`, with PatternTooBroad naming `what`.
 * Anything `fn` was doing is abandoned half done: give it only work whose partial effects do not
 * matter (matching names against a pattern).
 */
export function runWithTimeLimit<T>(what: string, fn: () => T, ms = REGEX_TIME_LIMIT_MS): T {
  // nested: the outer run's watchdog already bounds this one
  if (context.run !== undefined) return fn();
  context.run = fn;
  try {
    return script.runInContext(context, { timeout: ms }) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new PatternTooBroad(`${what} took more than ${ms} ms over the names (a pattern that backtracks, such as (a+)+$): simplify it`);
    }
    throw err;
  } finally {
    context.run = undefined;
  }
}
