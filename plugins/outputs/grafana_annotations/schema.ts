import type { JSONSchemaType } from 'ajv';
import type { GrafanaAnnotationsOptions, GrafanaPushOptions } from './options.js';

const push: JSONSchemaType<GrafanaPushOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  default: {},
  description: 'Push mode: also send each new event to the annotations API of a Grafana server.',
  properties: {
    url: {
      type: 'string',
      default: '',
      pattern: '^(https?://[^\\s]+)?$',
      description: "Grafana's base URL (http or https); events are POSTed to <url>/api/annotations. Empty turns push mode off.",
    },
    token: {
      type: 'string',
      default: '',
      'x-secret': true,
      description: 'Grafana service-account token (sent as a bearer token). Empty: read the variable named by tokenEnv.',
    },
    tokenEnv: {
      type: 'string',
      default: 'CARBONADO_GRAFANA_TOKEN',
      description: 'Environment variable holding the Grafana token when token is empty.',
    },
    dashboardUid: {
      type: 'string',
      default: '',
      description: 'Attach pushed annotations to this dashboard; empty makes them organization annotations (shown through tag queries).',
    },
    panelId: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'Attach pushed annotations to this panel of dashboardUid; 0 for the whole dashboard.',
    },
    tags: {
      type: 'array',
      items: { type: 'string' },
      maxItems: 64,
      default: [],
      description: "Tags added to every pushed annotation, after the event's own.",
    },
    queueMax: {
      type: 'integer',
      minimum: 1,
      maximum: 1000000,
      default: 1000,
      description: 'Events waiting to be pushed; beyond it new events are not pushed (counted as dropped push_queue_full) but are still stored.',
    },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 100,
      default: 5,
      description: 'Further attempts after a failed push (network error, timeout, 408, 429 or 5xx); other 4xx are not retried.',
    },
    retryDelayMs: {
      type: 'integer',
      minimum: 1,
      maximum: 3600000,
      default: 1000,
      description: 'Delay before the first retry; it doubles on each further retry, up to 60 s.',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: 600000,
      default: 5000,
      description: 'Timeout of one push request, and how long stop waits for the queue to drain.',
    },
  },
};

export const schema: JSONSchemaType<GrafanaAnnotationsOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    token: {
      type: 'string',
      default: '',
      'x-secret': true,
      description: 'Bearer token required by POST and DELETE (and by reads when readAccess is token). Empty: read the variable named by tokenEnv; if that is unset too, writes are accepted only from loopback.',
    },
    tokenEnv: {
      type: 'string',
      default: 'CARBONADO_EVENTS_TOKEN',
      description: 'Environment variable holding the token when token is empty.',
    },
    readAccess: {
      type: 'string',
      enum: ['open', 'token'],
      default: 'open',
      description: "'open': anyone may read events (what Grafana needs); 'token': reads follow the same rule as writes.",
    },
    loopback: {
      type: 'string',
      enum: ['trusted', 'untrusted'],
      default: 'trusted',
      description: "'trusted': without a token, clients on loopback may write. Use 'untrusted' behind a reverse proxy on the same host, where every request comes from loopback.",
    },
    maxBodyBytes: {
      type: 'integer',
      minimum: 256,
      maximum: 16777216,
      default: 65536,
      description: 'Largest POST body accepted; larger ones get 413 and nothing is stored.',
    },
    unknownFields: {
      type: 'string',
      enum: ['reject', 'ignore'],
      default: 'reject',
      description: "Fields other than what, tags, data and when in a POST body: 'reject' answers 400 (catches typos such as \"tag\"), 'ignore' drops them as graphite-web does.",
    },
    push,
  },
};
