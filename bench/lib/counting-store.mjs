// Benchmark fixture: a store that only counts the points it is given (and sums their values,
// so a run can prove nothing was mangled). Loaded by path like any third-party plugin.
export default {
  kind: 'store',
  name: 'counting_store',
  since: '0.1.0',
  description: 'counts points (benchmarks only)',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create() {
    let points = 0;
    let sum = 0;
    let firstMs = 0;
    let lastMs = 0;
    return {
      async start() {},
      async stop() {},
      write(batch) {
        const now = Date.now();
        if (!firstMs) firstMs = now;
        lastMs = now;
        points += batch.length;
        const v = batch.values;
        for (let i = 0; i < batch.length; i++) sum += v[i];
      },
      async find() {
        return [];
      },
      async fetch() {
        return [];
      },
      stats() {
        return { points, sum, first_ms: firstMs, last_ms: lastMs };
      },
    };
  },
};
