import { resolve } from 'node:path';
import { definePlugin } from '../../../core/index.js';
import type { SqliteEventsOptions } from './options.js';
import { schema } from './schema.js';
import { SqliteEventsStore } from './sqlite-events.js';

export default definePlugin<'store', SqliteEventsOptions>({
  kind: 'store',
  name: 'sqlite_events',
  since: '0.1.0',
  description: 'Annotations (Graphite events) in one SQLite file; holds no datapoints.',
  schema,
  resources: (o) => [{ kind: 'file', path: resolve(o.path) }],
  create: (ctx, options) => new SqliteEventsStore(ctx, options),
});
