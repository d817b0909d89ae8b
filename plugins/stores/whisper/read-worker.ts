/**
 * The read worker: answers batches of whisper reads with synchronous I/O (read-file.ts), off the
 * event loop. The results travel back column-wise in transferred ArrayBuffers (read-protocol.ts).
 */
import { parentPort } from 'node:worker_threads';
import { WhisperReader } from './read-file.js';
import { packResults, type ReadResult, type ReadWorkerRequest } from './read-protocol.js';

const reader = new WhisperReader();

parentPort!.on('message', (msg: ReadWorkerRequest) => {
  if (msg.type === 'close') {
    parentPort!.postMessage({ type: 'closed', id: msg.id });
    return;
  }
  const results: ReadResult[] = [];
  for (const path of msg.paths) results.push(reader.read(path, msg.from, msg.until, msg.now));
  const { columns, transfer } = packResults(results);
  parentPort!.postMessage({ type: 'read', id: msg.id, results: columns }, transfer);
});
