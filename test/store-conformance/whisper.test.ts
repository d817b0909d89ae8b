import { storeConformance } from './suite.js';

storeConformance('whisper', {
  config: (dir) => ({ type: 'whisper', dataDir: dir }),
  idle: (store) => (store.stats?.().cache_points ?? 0) === 0,
});
