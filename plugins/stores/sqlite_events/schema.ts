import type { JSONSchemaType } from 'ajv';
import type { SqliteEventsOptions } from './options.js';

export const schema: JSONSchemaType<SqliteEventsOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      default: './data/events.db',
      description: 'SQLite file holding the annotations (created with its directory on first start).',
    },
    synchronous: {
      type: 'string',
      enum: ['full', 'normal'],
      default: 'full',
      description: "SQLite synchronous mode under WAL: 'full' makes every acknowledged event durable; 'normal' may lose the last ones on power loss.",
    },
    maxQueryEvents: {
      type: 'integer',
      minimum: 1,
      maximum: 1000000,
      default: 10000,
      description: 'Upper bound on the events one query returns (oldest first), so a wide range cannot exhaust memory.',
    },
  },
};
