import type { JSONSchemaType } from 'ajv';
import type { CarbonLineOptions } from './options.js';

export const schema: JSONSchemaType<CarbonLineOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    host: { type: 'string', default: '0.0.0.0', description: 'address to listen on' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 2003, description: 'TCP and/or UDP port (0 picks a free one)' },
    protocols: { type: 'string', enum: ['tcp+udp', 'tcp', 'udp'], default: 'tcp+udp', description: 'transports opened on the port' },
    maxLineBytes: { type: 'integer', minimum: 64, maximum: 1048576, default: 16384, description: 'longest accepted line in bytes' },
    missingTimestamp: { type: 'string', enum: ['reject', 'now'], default: 'reject', description: 'a line with no timestamp is refused (carbon) or stamped with the current time' },
    udpRecvBufferBytes: {
      type: 'integer',
      minimum: 0,
      maximum: 1073741824,
      default: 8388608,
      description: 'SO_RCVBUF of the UDP socket in bytes (capped by net.core.rmem_max); 0 keeps the OS default',
    },
    udpReceiveQueueBytes: {
      type: 'integer',
      minimum: 65536,
      maximum: 4294967296,
      default: 67108864,
      description: 'UDP datagrams received but not yet parsed, at most (bytes); beyond it they are dropped and counted',
    },
    maxConnections: { type: 'integer', minimum: 1, default: 10000, description: 'most simultaneous TCP connections' },
    idleTimeoutMs: { type: 'integer', minimum: 0, default: 0, description: 'close TCP connections idle this long; 0 never' },
  },
};
