import { resolve } from 'node:path';
import { definePlugin, type Resource } from '../../../core/index.js';
import { schema } from './schema.js';
import type { WhisperStoreOptions } from './options.js';
import { WhisperStore, loadStorageRules } from './whisper-store.js';

export default definePlugin<'store', WhisperStoreOptions>({
  kind: 'store',
  name: 'whisper',
  since: '0.1.0',
  description: "Graphite's Whisper files (byte-compatible with carbon/whisper 1.1), with a write-back cache, WAL and carbon's schema files",
  schema,
  resources: (o): Resource[] => [{ kind: 'dir', path: resolve(o.dataDir) }],
  // the rule files, read and compiled as start-up does
  async check(o) {
    try {
      return { problems: [], warnings: [...(await loadStorageRules(o)).warnings] };
    } catch (err) {
      return { problems: [(err as Error).message], warnings: [] };
    }
  },
  create: (ctx, options) => new WhisperStore(ctx, options),
});
