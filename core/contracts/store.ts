import type { BaseContext, Lifecycle } from './plugin.js';
import type { PointBatch } from '../model/point-batch.js';
import type { FindNode, SeriesData } from '../model/series.js';

export interface StoreContext extends BaseContext {
  /**
   * Report write-back pressure: `true` when the store's queue is over its high-water mark,
   * `false` when it is back under. The core turns this into the bus `pressure` event.
   */
  setPressure(active: boolean): void;
}

/**
 * A seriesByTag term: `tag=value`, `tag!=value`, `tag=~regex`, `tag!=~regex`.
 * Regexes are anchored at the start only (graphite-web semantics); see tag-expression.ts.
 */
export interface TagTerm {
  readonly tag: string;
  readonly op: '=' | '!=' | '=~' | '!=~';
  readonly value: string;
}

/** Optional capability: the tag index graphite's /tags API and seriesByTag read. */
export interface TagQuery {
  /** all tag names, sorted; `name` included once any series exists */
  tagNames(): Promise<string[]>;
  /**
   * The distinct values of one tag, sorted; with `prefix` only those starting with it, and with
   * `limit` only the first `limit`. An index may ignore both (callers filter and cut again); they
   * let it skip sorting a million names for an autocomplete that shows a hundred.
   */
  tagValues(tag: string, opts?: { readonly prefix?: string; readonly limit?: number }): Promise<string[]>;
  /**
   * Canonical names of series matching every term (at least one term must be positive), sorted.
   * With `limit` the caller refuses more than `limit` names: past it the index may stop and
   * return any `limit + 1` of them (an index may ignore it).
   */
  findTagged(terms: readonly TagTerm[], opts?: { readonly limit?: number }): Promise<string[]>;
  /**
   * Optional: how many series have each value of `tag` (graphite-web's `/tags/<tag>` counts).
   * Without it, each value is counted with a findTagged of its own.
   */
  tagValueCounts?(tag: string): Promise<ReadonlyMap<string, number>>;
}

/** An annotation (Graphite event). `when` is Unix seconds. */
export interface EventRecord {
  readonly id: number;
  readonly when: number;
  readonly what: string;
  readonly tags: readonly string[];
  readonly data: string;
}

export interface EventQuery {
  readonly from: number;
  readonly until: number;
  /** when given, only events carrying these tags (see `tagMatch`) */
  readonly tags?: readonly string[];
  /** 'any': one of the tags suffices; 'all': every tag must be present (graphite-web's default) */
  readonly tagMatch?: 'any' | 'all';
  readonly limit?: number;
}

/** Optional capability: durable annotations. */
export interface EventStore {
  addEvent(e: Omit<EventRecord, 'id'>): Promise<EventRecord>;
  getEvent(id: number): Promise<EventRecord | undefined>;
  queryEvents(q: EventQuery): Promise<EventRecord[]>;
  deleteEvent(id: number): Promise<boolean>;
}

export interface FetchOptions {
  /** "now" for archive selection (graphite-web's `now` parameter); defaults to the clock */
  readonly now?: number;
  /**
   * The caller refuses an answer of more than `maxPoints` values in all (every series' grid
   * counted): a store may throw FetchTooLarge instead of allocating the series that would pass
   * it. One series of a fine retention over a long range is hundreds of MB; a store that ignores
   * this is still correct, as the caller counts what it gets.
   */
  readonly maxPoints?: number;
  /**
   * Aborted when the caller no longer wants the answer (its request failed, timed out or was
   * abandoned): a store may stop reading then and throw (any error; the caller ignores it). Reads
   * queued behind a failed request held the next requests for seconds.
   */
  readonly signal?: AbortSignal;
}

/** Retention and rollup of one series: archives finest first, as `[secondsPerPoint, points]`. */
export interface SeriesSpec {
  readonly archives: ReadonlyArray<readonly [number, number]>;
  readonly xFilesFactor: number;
  readonly aggregationMethod: string;
}

export interface FindOptions {
  /**
   * The caller refuses an answer of more than `limit` nodes: once there are more, the store may
   * stop looking and return any `limit + 1` of them (a glob over a million series need not be
   * walked to the end to be refused).
   */
  readonly limit?: number;
  /** only leaves are wanted (render targets): branches need not be listed or counted */
  readonly leavesOnly?: boolean;
  /**
   * Date.now() after which the caller has given up (the request's time limit): a store whose
   * find takes long may stop then, throwing PatternTooBroad, rather than walk on for nobody
   */
  readonly deadline?: number;
}

/** The read side every store answers, and what outputs use (never a file format). */
export interface QueryStore {
  /**
   * Graphite glob over the dotted name tree (`*`, `?`, `[a-z0-9]`, `{a,b}` within one node).
   * Answers direct children matching the pattern's depth; a node may be both leaf and branch.
   * See FindOptions for `limit` and `leavesOnly` (a store may ignore both).
   */
  find(pattern: string, opts?: FindOptions): Promise<FindNode[]>;
  /**
   * Series for exact names over (from, until]. Names the store does not hold are omitted;
   * a corrupt series is skipped and counted, never fails the whole call. Points accepted but not
   * yet persisted are included.
   */
  fetch(names: readonly string[], from: number, until: number, opts?: FetchOptions): Promise<SeriesData[]>;
  /**
   * Optional: the retention and rollup a new series of this name gets from the store's rules
   * (producers check their interval against it, e.g. an aggregator's flush against the finest step).
   */
  specFor?(name: string): SeriesSpec;
  readonly tags?: TagQuery;
  readonly events?: EventStore;
}

/**
 * Stores persist points. The core calls `write` for every `points` batch, synchronously, with
 * listener isolation: the store copies what it keeps (the batch is reused after the call), must
 * not block, and must not throw for bad data (count it instead).
 */
export interface StoreInstance extends Lifecycle, QueryStore {
  write(batch: PointBatch): void;
  /**
   * Optional: false for stores that keep no series to read back (a relay, an annotations-only
   * store); the runtime never picks such a store as the default query store.
   */
  readonly holdsSeries?: boolean;
  /**
   * Optional: false for stores that do nothing with data points (an annotations-only store): the
   * runtime does not hand them the `points` batches, so their `received` counts nothing.
   */
  readonly takesPoints?: boolean;
  /**
   * Optional: creates a series with an explicit retention instead of the store's rules (imports
   * use it to keep each file's archives). Does nothing when the series exists.
   */
  defineSeries?(name: string, spec: SeriesSpec): void;
}
