export interface CarbonPickleOptions {
  /** address to listen on */
  host: string;
  /** TCP port (0 picks a free one) */
  port: number;
  /** longest accepted frame body in bytes (carbon's PICKLE_RECEIVER_MAX_LENGTH); a longer one closes the connection */
  maxFrameBytes: number;
  /** values (strings, numbers, lists, tuples, memo references) one frame may create; a carbon-relay point costs 5 */
  maxItemsPerFrame: number;
  /** deepest list/tuple nesting; carbon's (path, (timestamp, value)) inside the outer list is 3 */
  maxDepth: number;
  /** memo slots one frame may use (PUT/MEMOIZE index limit) */
  maxMemoEntries: number;
  /** bytes of unfinished frames held by all connections together; the connection that would exceed it is closed */
  maxBufferedBytes: number;
  /** most simultaneous TCP connections; further ones are refused and counted */
  maxConnections: number;
  /** close a connection idle for this long; 0 never */
  idleTimeoutMs: number;
}
