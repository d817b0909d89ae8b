import type { ReplicaPlacement, RingMethod } from '../../shared/ring/ring.js';

/** One routing rule, tried in order (carbon-c-relay's `match … send to … [stop]`). */
export interface RelayRule {
  /** JavaScript regular expression tested against the canonical series name (unanchored) */
  match: string;
  /** `send`: place with the ring over `destinations`; `drop`: discard (counted as rule_drop) */
  action: 'send' | 'drop';
  /** subset of the relay's destinations for `send`; empty means all of them */
  destinations: string[];
  /** `stop`: later rules are not tried for a matching name; `continue`: they are */
  then: 'stop' | 'continue';
}

export interface CarbonRelayOptions {
  /** `host:port[=instance]` (carbon-c-relay) or `host:port:instance` (carbon DESTINATIONS) */
  destinations: string[];
  method: RingMethod;
  replication: number;
  replicaPlacement: ReplicaPlacement;
  protocol: 'plaintext' | 'pickle';
  pointsPerFrame: number;
  rules: RelayRule[];
  unmatched: 'ring' | 'drop';
  memoryQueuePoints: number;
  overflow: 'disk' | 'drop_oldest';
  spillDir: string;
  spillMaxBytes: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  resendWindowMs: number;
  drainTimeoutMs: number;
  routeCacheEntries: number;
}
