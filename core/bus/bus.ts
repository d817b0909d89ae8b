import { EventEmitter } from 'eventemitter3';
import type { BusEvents } from './events.js';

export type Bus = EventEmitter<BusEvents>;
export type BusEventName = keyof BusEvents;

export function createBus(): Bus {
  return new EventEmitter<BusEvents>();
}

/**
 * Wraps a listener so that its throw is reported and never skips the listeners after it
 * (eventemitter3 would otherwise abort the emit at the first throw).
 */
export function isolated<A extends unknown[]>(fn: (...args: A) => void, onError: (err: unknown) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      onError(err);
    }
  };
}

type Listener = (...args: never[]) => unknown;
interface Entry {
  readonly event: string | symbol;
  readonly fn: Listener;
  readonly context: unknown;
  readonly wrapper: (...args: unknown[]) => void;
}

/**
 * The bus as one plugin instance sees it. Every listener the instance adds is isolated: a throw,
 * or a rejected promise from an async listener, goes to `onError` instead of reaching whoever
 * emitted (an input's socket handler, say, where it would crash the process) or skipping the
 * listeners after it. Removing listeners only ever removes the instance's own, so a plugin
 * calling `removeAllListeners('points')` cannot unsubscribe the stores. `detach()` removes
 * whatever the instance left subscribed once it has stopped.
 */
export function instanceBus(bus: Bus, onError: (err: unknown) => void): Bus & { detach(): void } {
  const entries: Entry[] = [];
  const add = (event: string | symbol, fn: Listener, context: unknown, once: boolean): void => {
    // `this` in the listener is its context or, as eventemitter3 does, the emitter it subscribed
    // on: the view, not the shared bus
    const self = context === undefined ? view : context;
    const wrapper = Object.assign(
      (...args: unknown[]): void => {
        if (once) drop(entries.indexOf(entry));
        try {
          const r = (fn as (...a: unknown[]) => unknown).apply(self, args);
          if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
            (r as PromiseLike<unknown>).then(undefined, onError);
          }
        } catch (err) {
          onError(err);
        }
      },
      // what listeners() shows (Node's EventEmitter marks its once-wrappers the same way)
      { listener: fn },
    );
    const entry: Entry = { event, fn, context, wrapper };
    entries.push(entry);
    bus.on(event as never, wrapper as never);
  };
  const drop = (i: number): void => {
    if (i < 0) return;
    const [e] = entries.splice(i, 1);
    bus.off(e!.event as never, e!.wrapper as never);
  };
  const remove = (event: string | symbol | undefined, fn?: Listener, context?: unknown): void => {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (event !== undefined && e.event !== event) continue;
      if (fn !== undefined && e.fn !== fn) continue;
      if (context !== undefined && e.context !== context) continue;
      drop(i);
    }
  };
  const on = (event: string | symbol, fn: Listener, context?: unknown) => {
    add(event, fn, context, false);
    return view;
  };
  const off = (event: string | symbol, fn?: Listener, context?: unknown) => {
    remove(event, fn, context);
    return view;
  };
  const view = {
    on,
    addListener: on,
    once(event: string | symbol, fn: Listener, context?: unknown) {
      add(event, fn, context, true);
      return view;
    },
    off,
    removeListener: off,
    removeAllListeners(event?: string | symbol) {
      remove(event);
      return view;
    },
    emit: (event: string | symbol, ...args: unknown[]) => (bus.emit as (e: string | symbol, ...a: unknown[]) => boolean)(event, ...args),
    listeners: (event: string | symbol) => bus.listeners(event as never).map((l) => (l as { listener?: unknown }).listener ?? l),
    listenerCount: (event: string | symbol) => bus.listenerCount(event as never),
    eventNames: () => bus.eventNames(),
    detach: () => remove(undefined),
  };
  return view as unknown as Bus & { detach(): void };
}
