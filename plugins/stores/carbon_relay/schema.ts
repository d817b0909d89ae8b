import type { JSONSchemaType } from 'ajv';
import type { CarbonRelayOptions } from './options.js';

const destination = { type: 'string', pattern: '^(\\[[^\\]]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5}([=:][^\\s,]+)?$' } as const;

export const schema: JSONSchemaType<CarbonRelayOptions> = {
  type: 'object',
  additionalProperties: false,
  required: ['destinations'],
  properties: {
    destinations: {
      type: 'array',
      minItems: 1,
      items: destination,
      default: [],
      description: 'where points go: host:port[=instance] (carbon-c-relay) or host:port:instance (carbon DESTINATIONS); the order and instance names shape the ring',
    },
    method: {
      type: 'string',
      enum: ['carbon_ch', 'fnv1a_ch', 'jump_fnv1a_ch'],
      default: 'carbon_ch',
      description: "placement: carbon_ch (Python carbon-relay's ring), fnv1a_ch or jump_fnv1a_ch (carbon-c-relay's)",
    },
    replication: { type: 'integer', minimum: 1, maximum: 16, default: 1, description: 'copies of each series, on distinct destinations (at most the number of destinations)' },
    replicaPlacement: {
      type: 'string',
      enum: ['distinct_hosts', 'ring_order'],
      default: 'distinct_hosts',
      description: "carbon_ch only: distinct_hosts is carbon's DIVERSE_REPLICAS = True (replicas never on two instances of one host); ring_order takes the next members on the ring",
    },
    protocol: { type: 'string', enum: ['plaintext', 'pickle'], default: 'plaintext', description: 'wire format to the destinations: plaintext lines or length-prefixed pickle protocol 2' },
    pointsPerFrame: { type: 'integer', minimum: 1, maximum: 100000, default: 500, description: "pickle: points per frame (carbon-relay's MAX_DATAPOINTS_PER_MESSAGE)" },
    rules: {
      type: 'array',
      default: [],
      description: 'optional routing rules tried in order before the ring; see README',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['match'],
        properties: {
          match: { type: 'string', default: '.*', description: 'regular expression tested against the series name' },
          action: { type: 'string', enum: ['send', 'drop'], default: 'send', description: 'send to destinations, or drop' },
          destinations: { type: 'array', items: destination, default: [], description: 'subset of destinations (empty: all)' },
          then: { type: 'string', enum: ['stop', 'continue'], default: 'stop', description: 'whether later rules are tried after a match' },
        },
      },
    },
    unmatched: { type: 'string', enum: ['ring', 'drop'], default: 'ring', description: 'what happens to a name no rule sends anywhere (only when rules exist)' },
    memoryQueuePoints: { type: 'integer', minimum: 1000, default: 200000, description: 'per destination: points held in memory while it is slow or down' },
    overflow: { type: 'string', enum: ['disk', 'drop_oldest'], default: 'disk', description: 'beyond memoryQueuePoints: spill the oldest points to disk, or drop them (counted)' },
    spillDir: { type: 'string', minLength: 1, default: 'data/relay-spill', description: 'directory of the disk queues (one subdirectory per instance and destination)' },
    spillMaxBytes: { type: 'integer', minimum: 65536, default: 1073741824, description: 'per destination: disk queue bound; beyond it the oldest spilled points are dropped (counted)' },
    connectTimeoutMs: { type: 'integer', minimum: 100, default: 5000, description: 'give up one connection attempt after this long' },
    reconnectMinMs: { type: 'integer', minimum: 10, default: 200, description: 'first reconnect delay; doubles after each failure' },
    reconnectMaxMs: { type: 'integer', minimum: 10, default: 10000, description: 'longest reconnect delay' },
    resendWindowMs: {
      type: 'integer',
      minimum: 0,
      default: 2000,
      description: 'points written within this long before a connection breaks are sent again (the protocol has no acks; a duplicate point is harmless in Graphite)',
    },
    drainTimeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'on stop: how long to wait for connected destinations to take the queue before spilling it' },
    routeCacheEntries: { type: 'integer', minimum: 0, default: 200000, description: 'names whose placement is remembered (hashing costs a few microseconds)' },
  },
};
