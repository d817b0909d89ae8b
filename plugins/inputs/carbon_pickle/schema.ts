import type { JSONSchemaType } from 'ajv';
import type { CarbonPickleOptions } from './options.js';

export const schema: JSONSchemaType<CarbonPickleOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    host: { type: 'string', default: '0.0.0.0', description: 'address to listen on' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 2004, description: 'TCP port (0 picks a free one)' },
    maxFrameBytes: {
      type: 'integer', minimum: 16, maximum: 268435456, default: 1048576,
      description: 'longest accepted frame body in bytes (carbon: PICKLE_RECEIVER_MAX_LENGTH); a longer one closes the connection',
    },
    maxItemsPerFrame: {
      type: 'integer', minimum: 16, default: 1048576,
      description: 'values one frame may create (strings, numbers, lists, tuples, memo references); each costs at least a byte, so the default refuses no frame within maxFrameBytes',
    },
    maxDepth: { type: 'integer', minimum: 3, maximum: 1000, default: 16, description: 'deepest list/tuple nesting; a carbon frame needs 3' },
    maxMemoEntries: { type: 'integer', minimum: 0, default: 1048576, description: 'memo slots one frame may use (PUT/MEMOIZE index limit); the default refuses no frame within maxFrameBytes' },
    maxBufferedBytes: {
      type: 'integer', minimum: 1024, default: 67108864,
      description: 'bytes of unfinished frames held by all connections together; the connection that would exceed it is closed',
    },
    maxConnections: { type: 'integer', minimum: 1, default: 10000, description: 'most simultaneous TCP connections' },
    idleTimeoutMs: { type: 'integer', minimum: 0, default: 0, description: 'close connections idle this long; 0 never' },
  },
};
