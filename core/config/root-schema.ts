/** The core's own part of the config schema; plugin schemas are composed in by validate.ts. */
export interface CoreConfig {
  http: { host: string; port: number; maxBodyBytes: number; maxConnections: number };
  log: { level: 'error' | 'warn' | 'info' | 'debug'; format: 'text' | 'json' };
  selfMetrics: { prefix: string; intervalSecs: number };
  batch: { maxPoints: number; maxDelayMs: number };
  lifecycle: { startTimeoutMs: number; stopTimeoutMs: number };
  query: { store?: string; eventStore?: string };
  plugins: string[];
}

export interface InstanceConfig {
  readonly type: string;
  readonly [option: string]: unknown;
}

export interface CarbonadoConfig extends CoreConfig {
  inputs: Record<string, InstanceConfig>;
  aggregators: Record<string, InstanceConfig>;
  stores: Record<string, InstanceConfig>;
  outputs: Record<string, InstanceConfig>;
}

const INSTANCE_NAME = '^[A-Za-z0-9][A-Za-z0-9_-]*$';

const instances = {
  type: 'object',
  description: 'instances keyed by a name you choose; `type` names the plugin',
  default: {},
  propertyNames: { pattern: INSTANCE_NAME },
  additionalProperties: {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', minLength: 1 } },
  },
} as const;

export const coreSchema = {
  $id: 'carbonado:core',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'the one HTTP server (render API, events, /health, /stats)',
      properties: {
        host: { type: 'string', default: '0.0.0.0', description: 'address to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port (0 picks a free one)' },
        maxBodyBytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'largest request body any endpoint accepts (413); plugins\' own limits apply below it' },
        maxConnections: {
          type: 'integer', minimum: 1, default: 1000,
          description: 'open HTTP connections at most; further ones are closed at once (idle sockets up to the descriptor limit starved the WAL and the stores of files)',
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['error', 'warn', 'info', 'debug'], default: 'info', description: 'least severe level written' },
        format: { enum: ['text', 'json'], default: 'text', description: 'one line per entry, as text or JSON' },
      },
    },
    selfMetrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        prefix: {
          type: 'string',
          default: 'carbonado.{hostname}.',
          description: 'prefix of carbonado\'s own series; {hostname} is replaced by the host name (dots → _)',
        },
        intervalSecs: { type: 'integer', minimum: 0, default: 60, description: 'how often they are published (0 = never)' },
      },
    },
    batch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxPoints: { type: 'integer', minimum: 1, maximum: 1000000, default: 1000, description: 'points per bus batch' },
        maxDelayMs: { type: 'integer', minimum: 0, maximum: 10000, default: 50, description: 'longest a point waits for its batch' },
      },
    },
    lifecycle: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        startTimeoutMs: { type: 'integer', minimum: 100, default: 30000, description: 'limit for each instance to start' },
        stopTimeoutMs: { type: 'integer', minimum: 100, default: 60000, description: 'limit for each instance to drain and stop' },
      },
    },
    query: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        store: { type: 'string', description: 'store instance that queries read (default: the first store)' },
        eventStore: { type: 'string', description: 'store instance holding annotations (default: the first with events)' },
      },
    },
    plugins: {
      type: 'array',
      default: [],
      items: { type: 'string', minLength: 1 },
      description: 'third-party plugin modules: npm package names or paths to .js files',
    },
    inputs: instances,
    aggregators: instances,
    stores: instances,
    outputs: instances,
  },
} as const;
