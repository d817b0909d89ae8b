import { join } from 'node:path';
import { storeConformance } from './suite.js';

storeConformance('sqlite', {
  config: (dir) => ({ type: 'sqlite', path: join(dir, 'carbonado.db') }),
  idle: (store) => (store.stats?.().queue_points ?? 0) === 0,
});
