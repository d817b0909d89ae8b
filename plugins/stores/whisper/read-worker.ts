/**
 * The read worker: answers batches of whisper reads with synchronous I/O (read-file.ts), off the
 * event loop. The results travel back column-wise in transferred ArrayBuffers (read-protocol.ts).
 */
import { parentPort } from 'node:worker_threads';
import { aborted } from '../../../core/runtime/abort-flag.js';
import { WhisperReader } from './read-file.js';
import { packResults, type ReadResult, type ReadWorkerRequest } from './read-protocol.js';

const reader = new WhisperReader();

parentPort!.on('message', (msg: ReadWorkerRequest) => {
  if (msg.type === 'close') {
    parentPort!.postMessage({ type: 'closed', id: msg.id });
    return;
  }
  const results: ReadResult[] = [];
  let room = msg.maxPoints;
  for (const path of msg.paths) {
    if (aborted(msg.stop)) {
      results.push({ ok: false, code: 'aborted', name: 'AbortError', message: 'the caller gave up' });
      continue;
    }
    if (room < 0) {
      // the batch is over its maxPoints already: the fetch is refused, so these are not read
      results.push({ ok: false, code: 'too_large', name: 'FetchTooLarge', message: 'not read', points: 0 });
      continue;
    }
    const r = reader.read(path, msg.from, msg.until, msg.now, room);
    if (r.ok) room -= r.values.length;
    else if (r.code === 'too_large') room = -1;
    results.push(r);
  }
  if (room < 0) {
    // refused: the values read are not wanted, only how many there were (sending them doubled the peak)
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.ok) results[i] = { ok: false, code: 'too_large', name: 'FetchTooLarge', message: 'read, not sent', points: r.values.length };
    }
  }
  let packed: ReturnType<typeof packResults>;
  try {
    packed = packResults(results);
  } catch (err) {
    // more values than one array holds (a direct caller without maxPoints): each file fails, not the thread
    const failure: ReadResult = { ok: false, code: 'error', name: (err as Error).name, message: (err as Error).message };
    packed = packResults(results.map(() => failure));
  }
  parentPort!.postMessage({ type: 'read', id: msg.id, results: packed.columns }, packed.transfer);
});
