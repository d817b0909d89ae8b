import { resolve } from 'node:path';
import { definePlugin, type Resource } from '../../../core/index.js';
import { schema } from './schema.js';
import type { WhisperStoreOptions } from './options.js';
import { WhisperStore } from './whisper-store.js';

export default definePlugin<'store', WhisperStoreOptions>({
  kind: 'store',
  name: 'whisper',
  since: '0.1.0',
  description: "Graphite's Whisper files (byte-compatible with carbon/whisper 1.1), with a write-back cache, WAL and carbon's schema files",
  schema,
  resources: (o): Resource[] => [{ kind: 'dir', path: resolve(o.dataDir) }],
  create: (ctx, options) => new WhisperStore(ctx, options),
});
