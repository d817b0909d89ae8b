import { parseTags } from '../../../../core/index.js';

/** How maxDataPoints (and normalisation across steps) folds several values into one. */
export type ConsolidationFunc = 'average' | 'sum' | 'min' | 'max' | 'first' | 'last' | 'avg_zero';

export const CONSOLIDATION_FUNCS: readonly ConsolidationFunc[] = ['average', 'sum', 'min', 'max', 'first', 'last', 'avg_zero'];

/** graphite-web only parses tags out of names that do not look like a function call */
const FUNCTION_WRAPPED = /^[a-z]+[(].+[)]$/i;

/** Tags as graphite-web derives them from a series name: always a `name` tag. */
export function tagsFromName(name: string): Record<string, string> {
  if (name.indexOf(';') < 0 || FUNCTION_WRAPPED.test(name)) return { name };
  const { metric, tags } = parseTags(name);
  const out: Record<string, string> = { name: metric };
  for (const [k, v] of tags) if (k !== 'name') setTag(out, k, v);
  return out;
}

/**
 * Tag keys come from series names, and carbon takes `__proto__` or `constructor` as a key: plain
 * assignment would set the object's prototype (the tag lost) and plain lookup find Object's
 * members (`aliasByTags(x, "constructor")` named a series after Object's source).
 */
export function setTag(tags: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(tags, key, { value, writable: true, enumerable: true, configurable: true });
}

/** a tag's value, own properties only (see setTag) */
export function tagValue(tags: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(tags, key) ? tags[key] : undefined;
}

export interface TimeSeriesInit {
  name: string;
  start: number;
  end: number;
  step: number;
  values: Float64Array;
  tags?: Record<string, string>;
  pathExpression?: string;
  consolidationFunc?: ConsolidationFunc;
  xFilesFactor?: number;
}

/**
 * One series on the query side, as graphite-web's TimeSeries: values on a regular grid
 * `start + i*step`, NaN meaning null. Functions never mutate a series they received; they
 * derive a new one with `copy()` (graphite-web mutates in place, which is why its `copy()` resets
 * pathExpression to the new name; ours does the same so names of nested calls match).
 */
export class TimeSeries {
  name: string;
  start: number;
  /** exclusive */
  end: number;
  step: number;
  values: Float64Array;
  tags: Record<string, string>;
  pathExpression: string;
  consolidationFunc: ConsolidationFunc;
  xFilesFactor: number;
  /** kept for the contract; this evaluator consolidates eagerly, so it is always 1 */
  valuesPerPoint = 1;

  constructor(init: TimeSeriesInit) {
    this.name = init.name;
    this.start = init.start;
    this.end = init.end;
    this.step = init.step;
    this.values = init.values;
    this.tags = init.tags ?? tagsFromName(init.name);
    this.pathExpression = init.pathExpression ?? init.name;
    this.consolidationFunc = init.consolidationFunc ?? 'average';
    this.xFilesFactor = init.xFilesFactor ?? 0;
  }

  get length(): number {
    return this.values.length;
  }

  /**
   * A derived series. Like graphite-web's copy(): tags and consolidation carry over, the
   * pathExpression becomes the (new) name unless given.
   */
  copy(over: Partial<TimeSeriesInit> = {}): TimeSeries {
    const name = over.name ?? this.name;
    return new TimeSeries({
      name,
      start: over.start ?? this.start,
      end: over.end ?? this.end,
      step: over.step ?? this.step,
      values: over.values ?? this.values.slice(),
      tags: over.tags ?? { ...this.tags },
      pathExpression: over.pathExpression ?? name,
      consolidationFunc: over.consolidationFunc ?? this.consolidationFunc,
      xFilesFactor: over.xFilesFactor ?? this.xFilesFactor,
    });
  }

  /** Same series with new values and name, keeping pathExpression in step with the name. */
  derive(name: string, values: Float64Array, tag?: [string, string]): TimeSeries {
    const s = this.copy({ name, values });
    if (tag) s.tags[tag[0]] = tag[1];
    return s;
  }

  /** timestamp of value i */
  timeAt(i: number): number {
    return this.start + i * this.step;
  }
}
