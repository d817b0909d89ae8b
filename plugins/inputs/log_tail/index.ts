import { resolve } from 'node:path';
import { definePlugin } from '../../../core/index.js';
import { LogTail } from './log-tail.js';
import type { LogTailOptions } from './options.js';
import { logTailSchema } from './schema.js';

export default definePlugin<'input', LogTailOptions>({
  kind: 'input',
  name: 'log_tail',
  since: '0.1.0',
  description: 'Follows log files and turns lines into StatsD samples with named rules (built-in: jupyterhub)',
  schema: logTailSchema,
  resources: (o) => (o.stateFile === '' ? [] : [{ kind: 'file', path: resolve(o.stateFile) }]),
  create: (ctx, options) => new LogTail(ctx, options),
});
