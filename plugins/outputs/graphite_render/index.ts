import { definePlugin } from '../../../core/index.js';
import type { GraphiteRenderOptions } from './options.js';
import { schema } from './schema.js';
import { GraphiteRender } from './graphite-render.js';

export default definePlugin<'output', GraphiteRenderOptions>({
  kind: 'output',
  name: 'graphite_render',
  since: '0.1.0',
  description: 'The Graphite HTTP API (graphite-web 1.1.8): /render, /metrics/find, /metrics/expand, /tags, /functions, /version',
  schema,
  create: (ctx, options) => new GraphiteRender(ctx, options),
});
