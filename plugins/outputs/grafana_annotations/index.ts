import { definePlugin } from '../../../core/index.js';
import { GrafanaAnnotationsOutput } from './annotations.js';
import type { GrafanaAnnotationsOptions } from './options.js';
import { schema } from './schema.js';

export default definePlugin<'output', GrafanaAnnotationsOptions>({
  kind: 'output',
  name: 'grafana_annotations',
  since: '0.1.0',
  description: "Graphite's events API (Grafana annotations): POST /events/, GET /events/get_data, GET and DELETE /events/<id>; optional push to Grafana.",
  schema,
  create: (ctx, options) => new GrafanaAnnotationsOutput(ctx, options),
});
