import { resolve } from 'node:path';
import { definePlugin } from '../../../core/index.js';
import { schema } from './schema.js';
import type { SqliteStoreOptions } from './options.js';
import { SqliteStore } from './sqlite-store.js';

export default definePlugin<'store', SqliteStoreOptions>({
  kind: 'store',
  name: 'sqlite',
  since: '0.1.0',
  description: 'one SQLite database file with the retention, rollup and fetch semantics of Whisper',
  schema,
  resources: (o) => [{ kind: 'file', path: resolve(o.path) }],
  create: (ctx, options) => new SqliteStore(ctx, options),
});
