/**
 * The read worker: answers batches of whisper reads with synchronous I/O (read-file.ts), off the
 * event loop. The values travel back as transferred ArrayBuffers, so no point is copied twice.
 */
import { parentPort } from 'node:worker_threads';
import { WhisperReader } from './read-file.js';
import type { ReadResult, ReadWorkerRequest } from './read-protocol.js';

const reader = new WhisperReader();

parentPort!.on('message', (msg: ReadWorkerRequest) => {
  if (msg.type === 'close') {
    parentPort!.postMessage({ type: 'closed', id: msg.id });
    return;
  }
  const results: ReadResult[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const path of msg.paths) {
    const r = reader.read(path, msg.from, msg.until, msg.now);
    if (r.ok) transfer.push(r.values.buffer as ArrayBuffer);
    results.push(r);
  }
  parentPort!.postMessage({ type: 'read', id: msg.id, results }, transfer);
});
