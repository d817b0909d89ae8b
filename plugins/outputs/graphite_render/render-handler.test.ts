import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDeadline } from './render-handler.js';

test('withDeadline: a deadline further off than a timer reaches (maxRequestTimeMs over 2^31-1 ms) is no deadline', async () => {
  // Node fires such a timeout after 1 ms: every render was a 422 within milliseconds
  const later = new Promise((resolve) => setTimeout(() => resolve('answered'), 50));
  assert.equal(await withDeadline(later, Date.now() + 3_000_000_000), 'answered');
  await assert.rejects(withDeadline(new Promise(() => undefined), Date.now() + 20), /time limit/);
});
