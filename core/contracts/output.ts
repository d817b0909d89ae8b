import type Router from '@koa/router';
import type { BaseContext, Lifecycle } from './plugin.js';
import type { EventStore, QueryStore } from './store.js';

export interface HttpMount {
  /** Mounts a router on the one HTTP server; routes must not collide with other outputs'. */
  mount(router: Router): void;
  /**
   * The server's body limit (config `http.maxBodyBytes`). The server refuses a longer declared
   * Content-Length itself; a plugin reading a body without one (chunked) stops at the smaller of
   * this and its own limit.
   */
  readonly maxBodyBytes?: number;
}

export interface OutputContext extends BaseContext {
  /** the store queries read (config `query.store`, else the first store) */
  readonly store: QueryStore;
  /** every configured store, by instance id, for outputs that need more than the query store */
  readonly stores: ReadonlyMap<string, QueryStore>;
  /** the annotations store (config `query.eventStore`, else the first store that has events) */
  readonly events?: EventStore;
}

export interface OutputInstance extends Lifecycle {}
