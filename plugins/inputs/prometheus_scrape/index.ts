import { definePlugin } from '../../../core/index.js';
import type { PrometheusScrapeOptions } from './options.js';
import { PrometheusScrape } from './prometheus-scrape.js';
import { prometheusScrapeSchema } from './schema.js';

export default definePlugin<'input', PrometheusScrapeOptions>({
  kind: 'input',
  name: 'prometheus_scrape',
  since: '0.1.0',
  description: 'Scrapes a Prometheus text endpoint (e.g. JupyterHub /hub/metrics) into tagged Graphite series',
  schema: prometheusScrapeSchema,
  create: (ctx, options) => new PrometheusScrape(ctx, options),
});
