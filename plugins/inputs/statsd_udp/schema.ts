import type { JSONSchemaType } from 'ajv';
import { statsdParseSchemaProperties } from '../../shared/statsd-line/index.js';
import type { StatsdUdpOptions } from './options.js';

export const statsdUdpSchema: JSONSchemaType<StatsdUdpOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    host: { type: 'string', minLength: 1, default: '0.0.0.0', description: "address to bind; '::' for IPv6 (dual-stack on Linux)" },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8125, description: 'UDP port (Etsy port)' },
    recvBufferSize: {
      type: 'integer',
      minimum: 0,
      maximum: 1073741824,
      default: 8388608,
      description: 'socket receive buffer in bytes (SO_RCVBUF; capped by net.core.rmem_max); 0 = OS default',
    },
    receiveQueueBytes: {
      type: 'integer',
      minimum: 65536,
      maximum: 4294967296,
      default: 67108864,
      description: 'datagrams received but not yet parsed, at most (bytes); beyond it they are dropped and counted',
    },
    ...statsdParseSchemaProperties,
  },
};
