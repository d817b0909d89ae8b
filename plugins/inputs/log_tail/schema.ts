import type { JSONSchemaType } from 'ajv';
import type { LogRuleOptions, LogTailOptions } from './options.js';

const ruleSchema: JSONSchemaType<LogRuleOptions> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'pattern', 'metric'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_-]+$', default: 'rule', description: 'rule label used in stats (rule_hits.<name>)' },
    pattern: { type: 'string', minLength: 1, default: '.', description: 'JavaScript regex with named groups, matched against the whole line' },
    metric: { type: 'string', minLength: 1, default: 'logs.{name}', description: 'metric name template; {group} inserts a named group' },
    type: { type: 'string', enum: ['counter', 'timer', 'gauge', 'set'], default: 'counter', description: 'StatsD sample type emitted' },
    valueGroup: { type: 'string', default: '', description: 'named group holding the value (set: the member); empty = 1 (counters only)' },
    scale: { type: 'number', default: 1, description: 'multiplier applied to the value (1000: seconds to ms)' },
  },
};

export const logTailSchema: JSONSchemaType<LogTailOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    files: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'log files to follow' },
    startAt: { type: 'string', enum: ['end', 'beginning'], default: 'end', description: 'where to start in a file with no remembered offset' },
    stateFile: { type: 'string', default: '', description: 'JSON file remembering offsets across restarts; empty disables' },
    stateFlushIntervalMs: { type: 'integer', minimum: 100, default: 5000, description: 'how often changed offsets are written' },
    pollIntervalMs: { type: 'integer', minimum: 10, default: 1000, description: 'poll period for rotation, truncation and missed watch events' },
    maxLineBytes: { type: 'integer', minimum: 256, default: 65536, description: 'longest line kept; longer lines are dropped and counted' },
    ruleSets: {
      type: 'array',
      items: { type: 'string', enum: ['jupyterhub'] },
      uniqueItems: true,
      default: ['jupyterhub'],
      description: 'built-in rule sets',
    },
    prefix: { type: 'string', default: 'jupyterhub', description: 'first node(s) of the names the built-in rule sets produce' },
    rules: { type: 'array', items: ruleSchema, default: [], description: 'operator rules: regex with named groups -> metric' },
  },
};
