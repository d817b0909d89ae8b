import type { JSONSchemaType } from 'ajv';
import { statsdParseSchemaProperties } from '../../shared/statsd-line/index.js';
import type { StatsdTcpOptions } from './options.js';

export const statsdTcpSchema: JSONSchemaType<StatsdTcpOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    host: { type: 'string', minLength: 1, default: '0.0.0.0', description: "address to bind; '::' for IPv6 (dual-stack on Linux)" },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8125, description: 'TCP port (Etsy port with servers/tcp)' },
    maxLineBytes: { type: 'integer', minimum: 256, maximum: 16777216, default: 65536, description: 'longest line kept; longer lines are dropped and counted' },
    maxConnections: { type: 'integer', minimum: 1, default: 1024, description: 'concurrent connections; more are refused and counted' },
    ...statsdParseSchemaProperties,
  },
};
