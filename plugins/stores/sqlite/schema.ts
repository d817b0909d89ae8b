import type { JSONSchemaType } from 'ajv';
import { schema as whisperSchema } from '../whisper/schema.js';
import type { SqliteStoreOptions } from './options.js';

const w = whisperSchema.properties;

export const schema: JSONSchemaType<SqliteStoreOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    path: { type: 'string', minLength: 1, default: './data/carbonado.db', description: 'the database file (its directory is created when missing)' },
    // the rules are the whisper store's, option for option, so a config can switch stores
    schemasFile: w.schemasFile,
    aggregationFile: w.aggregationFile,
    schemas: w.schemas,
    aggregation: w.aggregation,
    queueMaxPoints: { type: 'integer', minimum: 1000, default: 5_000_000, description: 'points accepted but not yet committed, at most; beyond it points are dropped and counted' },
    pressureHighPercent: { type: 'integer', minimum: 1, maximum: 100, default: 80, description: 'queue fill (% of queueMaxPoints) at which stream inputs are paused' },
    pressureLowPercent: { type: 'integer', minimum: 0, maximum: 99, default: 50, description: 'queue fill at which stream inputs resume' },
    commitIntervalMs: { type: 'integer', minimum: 10, maximum: 60000, default: 200, description: 'accepted points are committed in one transaction at least this often' },
    synchronous: { type: 'string', enum: ['normal', 'full'], default: 'normal', description: "SQLite's synchronous pragma (WAL + normal: a power loss may lose the last commits, a crash of the process loses none)" },
    retentionSweepSecs: { type: 'integer', minimum: 0, default: 60, description: 'how often points older than their retention are deleted, in small batches; 0 never' },
  },
} as unknown as JSONSchemaType<SqliteStoreOptions>;
