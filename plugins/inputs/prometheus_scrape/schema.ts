import type { JSONSchemaType } from 'ajv';
import type { PrometheusScrapeOptions } from './options.js';

export const prometheusScrapeSchema: JSONSchemaType<PrometheusScrapeOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    url: { type: 'string', pattern: '^https?://', default: 'http://127.0.0.1:8000/hub/metrics', description: 'exposition endpoint (http or https)' },
    intervalMs: { type: 'integer', minimum: 100, default: 15000, description: 'time between scrape starts' },
    timeoutMs: { type: 'integer', minimum: 10, default: 10000, description: 'whole-scrape timeout; at most intervalMs' },
    maxBodyBytes: { type: 'integer', minimum: 1024, default: 4194304, description: 'largest body accepted (after gzip decoding)' },
    bearerToken: { type: 'string', default: '', description: 'token sent as Authorization: Bearer (JupyterHub: read:metrics scope)' },
    bearerTokenFile: { type: 'string', default: '', description: 'file holding the token, re-read every scrape; exclusive with bearerToken' },
    tls: { type: 'string', enum: ['verify', 'insecure'], default: 'verify', description: 'certificate checking for https' },
    prefix: { type: 'string', default: '', description: 'prepended to every metric name, with a dot' },
    timestamps: { type: 'string', enum: ['exposed', 'scrape'], default: 'exposed', description: 'use exporter timestamps when given, or always the scrape time' },
  },
};
