import type { JSONSchemaType } from 'ajv';
import type { GraphiteRenderOptions } from './options.js';

export const schema: JSONSchemaType<GraphiteRenderOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    urlPrefix: {
      type: 'string', default: '', pattern: '^(/[A-Za-z0-9._~-]+)*$',
      description: "Path prefix for every endpoint, e.g. '/graphite' ('' serves /render, /metrics/find, ... at the root).",
    },
    maxTargetsPerRequest: {
      type: 'integer', minimum: 1, default: 100,
      description: 'Most `target` parameters one /render request may carry; more answers 422.',
    },
    maxSeriesPerTarget: {
      type: 'integer', minimum: 1, default: 10000,
      description: 'Most series one path expression (after globbing) or one target may produce; more answers 422.',
    },
    maxPointsPerRequest: {
      type: 'integer', minimum: 1, default: 20000000,
      description: 'Most datapoints one /render request may read, copy and generate (before consolidation), over all its targets; more answers 422.',
    },
    maxPointsInFlight: {
      type: 'integer', minimum: 1, default: 60000000,
      description: 'Most datapoints all /render requests in progress may hold together (8 bytes each, before copies functions make); a read that would pass it waits its turn (the oldest request in progress always goes on) and answers 503 with Retry-After if still waiting at its deadline.',
    },
    maxRequestTimeMs: {
      type: 'integer', minimum: 1, maximum: 2147483647, default: 30000,
      description: 'Wall-clock budget of one /render or /metrics request; over it answers 422.',
    },
    evaluateInWorker: {
      type: 'boolean', default: true,
      description: 'Evaluate /render targets (functions over the fetched series) on a worker thread, so a long computation never holds up ingestion, flushes or other requests; false evaluates them on the main thread.',
    },
    renderThreads: {
      type: 'integer', minimum: 1, maximum: 64, default: 2,
      description: 'Worker threads evaluating renders (with evaluateInWorker); each render goes to the least busy, so one long computation leaves the others to the rest of a dashboard.',
    },
    maxExpressionDepth: {
      type: 'integer', minimum: 1, maximum: 1000, default: 32,
      description: 'Deepest nesting of function calls accepted in a target; deeper answers 400.',
    },
    maxFindResults: {
      type: 'integer', minimum: 1, default: 200000,
      description: 'Most nodes one /metrics/find, /metrics/expand or /metrics/index.json may return; more answers 422.',
    },
    maxBodyBytes: {
      type: 'integer', minimum: 1024, default: 1048576,
      description: 'Largest accepted form body of a POST request, in bytes; larger answers 413.',
    },
    timeZone: {
      type: 'string', default: 'UTC',
      description: "IANA zone for from/until parsing and csv timestamps when a request has no valid `tz` (graphite-web's TIME_ZONE).",
    },
    jsonInfinity: {
      type: 'string', enum: ['1e9999', 'null'], default: '1e9999',
      description: "How ±Infinity is written in JSON render answers: graphite-web's `1e9999`, or `null` for clients (Go's encoding/json) that reject it.",
    },
    version: {
      type: 'string', default: '1.1.8', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$',
      description: 'What GET /version answers; Grafana enables tags and /functions for 1.1.x.',
    },
  },
};
