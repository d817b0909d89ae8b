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
