/**
 * The persist worker: applies chunks of cached points to Whisper files with synchronous
 * positioned I/O, off the event loop. Why a thread rather than fs/promises on the main thread:
 * an update is a handful of 12-byte reads and writes; through the thread pool each one costs a
 * promise, a queue hop and a wake-up (measured: ~70 µs of main-thread CPU per update, and 1 s
 * event-loop stalls under full ingest), while here each is a plain syscall and the main thread
 * only parses and caches. Files stay open in a bounded LRU so steady-state updates skip open().
 */
import { parentPort, threadId } from 'node:worker_threads';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  CorruptWhisperFile,
  SyncFile,
  createWhisperSync,
  encodeHeader,
  parseHeader,
  readHeader,
  updateMany,
  validateArchiveList,
  type WhisperHeader,
} from '../../shared/whisper-format/index.js';
import type { PersistRequest, PersistResult, WorkerRequest } from './persist-protocol.js';


interface OpenFile {
  file: SyncFile;
  header: WhisperHeader | undefined;
}

const open = new Map<string, OpenFile>();
const dirs = new Set<string>();
/** per-thread state; maxOpen: files kept open (each request brings this worker's share of the descriptor limit) */
const state = { tmpCounter: 0, maxOpen: 1024 };

function closeOne(path: string): void {
  const f = open.get(path);
  if (!f) return;
  open.delete(path);
  try {
    closeSync(f.file.fd);
  } catch {
    /* nothing to do */
  }
}

function remember(path: string, f: OpenFile): void {
  while (open.size >= state.maxOpen) closeOne(open.keys().next().value!);
  open.set(path, f);
}

function get(path: string): OpenFile {
  let f = open.get(path);
  if (f) {
    // LRU: move to the end
    open.delete(path);
    open.set(path, f);
    return f;
  }
  f = { file: new SyncFile(openSync(path, 'r+')), header: undefined };
  remember(path, f);
  return f;
}

/** Creates under a temporary dot-name, then renames into place (never a partial .wsp). */
function create(path: string, req: PersistRequest, i: number): boolean {
  const spec = req.creates[i]!;
  const dir = dirname(path);
  if (!dirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    dirs.add(dir);
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${threadId}.${++state.tmpCounter}.tmp`);
  const fd = createWhisperSync(tmp, spec.archives, { xFilesFactor: spec.xFilesFactor, aggregationMethod: spec.aggregationMethod, allocation: req.allocation });
  try {
    if (req.sync) fdatasyncSync(fd);
    // rename (one syscall) rather than link + unlink; the store owns dataDir (a claimed
    // resource), so the existence check only guards against a file made by hand meanwhile
    if (existsSync(path)) {
      closeSync(fd);
      unlinkSync(tmp);
      return false;
    }
    renameSync(tmp, path);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
    throw err;
  }
  const header = parseHeader(encodeHeader(validateArchiveList(spec.archives), spec.xFilesFactor, spec.aggregationMethod), path);
  remember(path, { file: new SyncFile(fd), header });
  return true;
}

async function persist(req: PersistRequest): Promise<PersistResult[]> {
  state.maxOpen = Math.max(1, req.maxOpen);
  const out: PersistResult[] = [];
  for (let i = 0; i < req.paths.length; i++) {
    const path = req.paths[i]!;
    const from = req.offsets[i]!;
    const to = req.offsets[i + 1]!;
    const t0 = performance.now();
    let created = false;
    try {
      if (req.creates[i]) created = create(path, req, i);
      const f = get(path);
      f.header ??= await readHeader(f.file, path);
      const r = await updateMany(f.file, f.header, req.times.subarray(from, to), req.values.subarray(from, to), to - from, req.now);
      if (req.sync) fdatasyncSync(f.file.fd);
      out.push({ ok: true, written: r.written, tooOld: r.tooOld, created, ms: performance.now() - t0 });
    } catch (err) {
      closeOne(path);
      const e = err as NodeJS.ErrnoException;
      out.push({
        ok: false,
        written: 0,
        tooOld: 0,
        created,
        code: e instanceof CorruptWhisperFile ? 'corrupt' : (e.code ?? 'error'),
        message: e.message,
        ms: performance.now() - t0,
      });
    }
  }
  return out;
}

parentPort!.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'close') {
    for (const p of [...open.keys()]) closeOne(p);
    parentPort!.postMessage({ type: 'closed', id: msg.id });
    return;
  }
  void persist(msg).then((results) => parentPort!.postMessage({ type: 'persisted', id: msg.id, results }));
});
