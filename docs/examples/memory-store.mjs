// A complete third-party store plugin for carbonado, in plain JavaScript with no dependencies.
// It keeps points in memory (lost on restart), so it is an example and a test fixture, never a
// default. Load it with `plugins: ["./docs/examples/memory-store.mjs"]` and use `type: memory_example`.

/** @type {import('carbonado').PluginManifest<'store', { stepSecs: number, maxPointsPerSeries: number }>} */
const manifest = {
  kind: 'store',
  name: 'memory_example',
  since: '0.1.0',
  description: 'keeps points in memory; an example of a third-party store',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      stepSecs: { type: 'integer', minimum: 1, default: 10, description: 'slot width for fetch' },
      maxPointsPerSeries: { type: 'integer', minimum: 1, default: 10000, description: 'oldest points are forgotten beyond this' },
    },
  },
  create(ctx, options) {
    /** @type {Map<string, Map<number, number>>} series → slot time → value */
    const series = new Map();
    let batches = 0;
    return {
      async start() {},
      async stop() {},
      // The batch is reused after this call returns: copy what you keep.
      write(batch) {
        batches++;
        for (let i = 0; i < batch.length; i++) {
          const name = batch.names[i];
          let s = series.get(name);
          if (!s) series.set(name, (s = new Map()));
          const slot = Math.floor(batch.times[i] / options.stepSecs) * options.stepSecs;
          s.set(slot, batch.values[i]);
          if (s.size > options.maxPointsPerSeries) s.delete(s.keys().next().value);
        }
      },
      async find(pattern) {
        const re = new RegExp(`^${pattern.split('.').map(globToRegex).join('\\.')}$`);
        const depth = pattern.split('.').length;
        const nodes = new Map();
        for (const name of series.keys()) {
          const parts = name.split('.');
          if (parts.length < depth) continue;
          const path = parts.slice(0, depth).join('.');
          if (!re.test(path)) continue;
          const isLeaf = parts.length === depth;
          nodes.set(`${path}|${isLeaf}`, { path, isLeaf });
        }
        return [...nodes.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
      },
      async fetch(names, from, until) {
        const step = options.stepSecs;
        const start = Math.floor(from / step) * step + step;
        const end = Math.floor(until / step) * step + step;
        const out = [];
        for (const name of names) {
          const s = series.get(name);
          if (!s) continue;
          const values = new Float64Array(Math.max(0, (end - start) / step)).fill(NaN);
          for (const [t, v] of s) if (t >= start && t < end) values[(t - start) / step] = v;
          out.push({ name, start, end, step, values });
        }
        return out;
      },
      stats() {
        return { series: series.size, batches };
      },
      /** for tests: every point held, as [name, time, value] */
      dump() {
        const rows = [];
        for (const [name, s] of series) for (const [t, v] of s) rows.push([name, t, v]);
        return rows;
      },
    };
  },
};

function globToRegex(node) {
  return node
    .replace(/[.+^$()|\\]/g, '\\$&')
    .replace(/\*/g, '[^.]*')
    .replace(/\?/g, '[^.]')
    .replace(/\{([^}]*)\}/g, (_, alts) => `(?:${alts.split(',').join('|')})`);
}

export default manifest;
