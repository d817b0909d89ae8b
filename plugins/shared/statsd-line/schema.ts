/** The parser's options, as schema properties both StatsD inputs include. */
export const statsdParseSchemaProperties = {
  keySanitize: {
    type: 'string',
    enum: ['all', 'metric_only'],
    default: 'all',
    description: "'all' sanitises the whole key incl. tags (Etsy keyNameSanitize true); 'metric_only' keeps tags verbatim (Etsy keyNameSanitize false)",
  },
  typeDialect: {
    type: 'string',
    enum: ['etsy', 'dogstatsd'],
    default: 'etsy',
    description: "'etsy': h and d are counters, as Etsy statsd does; 'dogstatsd': h and d are timers and packed values (k:1:2|h) share one type",
  },
} as const;
