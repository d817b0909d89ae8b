/**
 * The persist worker: applies chunks of cached points to Whisper files with synchronous
 * positioned I/O, off the event loop. Why a thread rather than fs/promises on the main thread:
 * an update is a handful of 12-byte reads and writes; through the thread pool each one costs a
 * promise, a queue hop and a wake-up (measured: ~70 µs of main-thread CPU per update, and 1 s
 * event-loop stalls under full ingest), while here each is a plain syscall and the main thread
 * only parses and caches. Files stay open in a bounded LRU so steady-state updates skip open().
 */
import { parentPort, threadId } from 'node:worker_threads';
import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import {
  CorruptWhisperFile,
  InvalidConfiguration,
  ARCHIVE_INFO_SIZE,
  MAX_ARCHIVES,
  METADATA_SIZE,
  NewFileImage,
  SyncFile,
  createWhisperSync,
  encodeHeader,
  parseHeader,
  readHeader,
  updateMany,
  validateArchiveList,
  whisperFileSize,
  type BaseCache,
  type UpdateResult,
  type WhisperHeader,
} from '../../shared/whisper-format/index.js';
import { emptyResults, resultBuffers, type CreateSpec, type PersistRequest, type PersistResults, type WorkerRequest } from './persist-protocol.js';
import { isNoHardLinks } from './hard-links.js';


interface OpenFile {
  file: SyncFile;
  header: WhisperHeader | undefined;
  /** archive bases learnt while the file is open (whisper-format's BaseCache); dropped on close */
  bases: BaseCache;
  /** the inode behind the descriptor, to notice the path now names another file */
  readonly dev: number;
  readonly ino: number;
  /**
   * the header bytes (metadata and archive table) `header` was parsed from, to notice a header
   * rewritten in place: a damaged archive table, which reads call corrupt, is not written into
   */
  meta: Buffer | undefined;
}

/** A storage rule made ready for new files: validated, its header encoded and parsed once. */
interface PreparedSpec {
  readonly spec: CreateSpec;
  readonly head: Buffer;
  readonly header: WhisperHeader;
  readonly size: number;
}

/**
 * A rule made ready once per chunk: a burst of new series shares a handful of rules, and
 * validating, encoding and parsing the header for every file cost ~2 % of the thread.
 */
function prepareOrError(spec: CreateSpec): PreparedSpec | InvalidConfiguration {
  try {
    if (!(spec.xFilesFactor >= 0 && spec.xFilesFactor <= 1)) throw new InvalidConfiguration(`Invalid xFilesFactor ${spec.xFilesFactor}, not between 0 and 1`);
    const archives = validateArchiveList(spec.archives);
    const head = encodeHeader(archives, spec.xFilesFactor, spec.aggregationMethod);
    return { spec, head, header: parseHeader(head, '(new file)'), size: whisperFileSize(archives) };
  } catch (err) {
    if (err instanceof InvalidConfiguration) return err;
    throw err;
  }
}

const open = new Map<string, OpenFile>();
const dirs = new Set<string>();
/**
 * directories on another filesystem than the staging directory: their new files are made next to
 * their place and renamed (as all new files are where the filesystem has no hard links: exFAT,
 * vfat, some SMB and FUSE mounts; `state.stagingCannotLink`)
 */
const elsewhere = new Set<string>();
/**
 * per-thread state; maxOpen: files kept open (each request brings this worker's share of the
 * descriptor limit); openCap: a lower bound learnt from EMFILE; stagingCannotLink: the staging
 * directory's filesystem has no hard links (link() within one filesystem failed), so every
 * directory on it would fail alike and those on other filesystems get EXDEV: no new file tries
 * the staging link again
 */
const state = { tmpCounter: 0, maxOpen: 1024, openCap: Number.POSITIVE_INFINITY, emfileAt: 0, stagingCannotLink: false };

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

/**
 * The open file for `path`, checked against the tree first. carbon-cache opens the file and
 * reads its header on every update, so whisper's tools work under it; an open descriptor would
 * keep writing into a file `whisper-resize` renamed away (or an operator deleted), and a cached
 * header would ignore `whisper-set-aggregation-method`. One stat and one 16-byte read per update
 * (a few µs on the persist thread) keep that behaviour.
 */
function get(path: string): OpenFile {
  const cached = open.get(path);
  if (cached) {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st && st.ino === cached.ino && st.dev === cached.dev) {
      // a header rewritten in place, or a file cut short (truncate): read the header again, which
      // refuses a file shorter than its archives (never write into what reads call corrupt)
      const shorter = cached.header !== undefined && st.size < cached.header.fileSize;
      const n = cached.meta?.length ?? 0;
      if (shorter || (cached.meta && (readSync(cached.file.fd, headNow, 0, n, 0) !== n || !headNow.subarray(0, n).equals(cached.meta)))) {
        cached.header = undefined;
        cached.meta = undefined;
        cached.bases.clear();
      }
      // LRU: move to the end
      open.delete(path);
      open.set(path, cached);
      return cached;
    }
    closeOne(path); // replaced or removed: open what the path names now (ENOENT: the store creates it again)
  }
  return opened(path, openSync(path, 'r+'), undefined, new Map());
}

/** `head`: the header bytes a new file was written with (its metadata need not be read back). */
function opened(path: string, fd: number, header: WhisperHeader | undefined, bases: BaseCache, head?: Buffer): OpenFile {
  const st = fstatSync(fd);
  const f: OpenFile = { file: new SyncFile(fd), header, bases, dev: st.dev, ino: st.ino, meta: head ? Buffer.from(head) : undefined };
  remember(path, f);
  return f;
}

/** the longest header a file the store writes into can have (more archives: corrupt) */
const headNow = Buffer.alloc(METADATA_SIZE + ARCHIVE_INFO_SIZE * MAX_ARCHIVES);

function readHead(fd: number, archives: number): Buffer {
  const b = Buffer.alloc(METADATA_SIZE + ARCHIVE_INFO_SIZE * archives);
  readSync(fd, b, 0, b.length, 0);
  return b;
}

function tmpPathFor(path: string): string {
  const dir = dirname(path);
  ensureDir(dir);
  // not the file's own name: with a leaf near NAME_MAX it would be too long (the start-up walk
  // removes leftovers by the `.wsp.` and `.tmp` in the name)
  return join(dir, `.carbonado.${process.pid}.${threadId}.${++state.tmpCounter}.wsp.tmp`);
}

/** Removes a temporary file that may already be gone. */
function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone */
  }
}

function ensureDir(dir: string): void {
  if (!dirs.has(dir)) {
    makeDirectory(dir);
    dirs.add(dir);
  }
}

/**
 * mkdir -p with the real cause of a failure: Node's recursive mkdir reports ENOENT for every
 * failure below an existing directory (EROFS on a read-only remount, for one), which the store
 * would take for a file removed by an operator and retry at once. Level by level, the error is
 * the kernel's own.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const parent = dirname(dir);
    if (parent !== dir) makeDirectory(parent);
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Puts a finished temporary file at `path` unless something is there: link() fails with EEXIST
 * rather than replacing, so no existence check is needed. Returns false when `path` exists.
 * Why a staging directory per thread and link + unlink rather than a temporary name next to the
 * file and rename: creating a file and renaming one both lock the target directory, so with
 * every new series of a burst in one directory the threads queued on that lock; now only the
 * link takes it (measured: 85 instead of 180 µs per create with two threads, one directory).
 */
function linkIntoPlace(tmp: string, path: string): boolean {
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'ENOENT') throw err;
    // the directory went away behind our back: make it again, once
    dirs.delete(dirname(path));
    ensureDir(dirname(path));
    linkSync(tmp, path);
  } finally {
    removeQuietly(tmp);
  }
  return true;
}

/**
 * A sparse new file with its first points: the header and the update are computed in memory
 * (NewFileImage), written to a file in this thread's staging directory in as few writes as the
 * touched ranges allow, and linked into place (never a partial .wsp in the tree). Same bytes as
 * create + update_many. Returns 'exists' when the path exists meanwhile (a file made by hand: the
 * caller updates it instead) and 'elsewhere' when the link cannot be made there (see `elsewhere`;
 * the caller creates the file next to its place instead).
 */
async function createWithPoints(path: string, req: PersistRequest, staging: string, spec: PreparedSpec, from: number, to: number): Promise<UpdateResult | 'exists' | 'elsewhere'> {
  const { image, header, bases, result: r } = await newFileWithPoints(spec, req.times.subarray(from, to), req.values.subarray(from, to), req.now);
  ensureDir(dirname(path));
  ensureDir(staging);
  const tmp = `${staging}${sep}.${++state.tmpCounter}.wsp.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // the staging directory was removed behind our back: make it again, once
    dirs.delete(staging);
    ensureDir(staging);
    fd = openSync(tmp, 'wx+');
  }
  try {
    image.writeToSync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(tmp);
    throw err;
  }
  let placed: boolean;
  try {
    placed = linkIntoPlace(tmp, path);
  } catch (err) {
    closeSync(fd);
    if (isNoHardLinks(err)) state.stagingCannotLink = true;
    if ((err as NodeJS.ErrnoException).code === 'EXDEV' || state.stagingCannotLink) return 'elsewhere';
    throw err;
  }
  if (!placed) {
    closeSync(fd);
    return 'exists';
  }
  opened(path, fd, header, bases, spec.head);
  return r;
}

/** The bytes of a new file holding its first points (in memory; no I/O). */
async function newFileWithPoints(spec: PreparedSpec, times: Float64Array, values: Float64Array, now: number): Promise<{ image: NewFileImage; header: WhisperHeader; bases: BaseCache; result: UpdateResult }> {
  const image = new NewFileImage(spec.size);
  await image.write(spec.head, 0, spec.head.length, 0);
  const bases: BaseCache = new Map();
  const result = await updateMany(image, spec.header, times, values, times.length, now, bases);
  return { image, header: spec.header, bases, result };
}

/** Creates under a temporary dot-name, then renames into place (never a partial .wsp). */
function create(path: string, req: PersistRequest, prep: PreparedSpec): boolean {
  const spec = prep.spec;
  const tmp = tmpPathFor(path);
  const fd = createWhisperSync(tmp, spec.archives, { xFilesFactor: spec.xFilesFactor, aggregationMethod: spec.aggregationMethod, allocation: req.allocation });
  try {
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
    removeQuietly(tmp);
    throw err;
  }
  opened(path, fd, prep.header, new Map(), prep.head);
  return true;
}

/**
 * A file that is empty or whose metadata is all zeros has no header to lose: it is what a create
 * cut short by a power loss leaves when the rename reached the disk but the file's blocks did not
 * (the WAL still holds its points). Such a file is renamed aside (`<name>.wsp.torn-<ms>`, kept for
 * the operator, invisible to Graphite) and reported as 'torn', so the store creates the series
 * again. Any other unreadable header stays where it is and is reported 'corrupt'.
 */
async function headerOrSetAside(file: SyncFile, path: string): Promise<WhisperHeader> {
  try {
    return await readHeader(file, path);
  } catch (err) {
    if (!(err instanceof CorruptWhisperFile) || !isBlank(file)) throw err;
    closeOne(path);
    const aside = `${path}.torn-${Date.now()}`;
    renameSync(path, aside);
    throw new TornWhisperFile(`no header (empty or zero-filled metadata); set aside as ${basename(aside)}`);
  }
}

class TornWhisperFile extends Error {
  readonly code = 'torn';
}

function isBlank(file: SyncFile): boolean {
  const size = fstatSync(file.fd).size;
  if (size === 0) return true;
  const head = Buffer.alloc(METADATA_SIZE);
  return readSync(file.fd, head, 0, METADATA_SIZE, 0) === METADATA_SIZE && head.every((b) => b === 0);
}

async function persist(req: PersistRequest): Promise<PersistResults> {
  // a cap learnt from EMFILE grows back, a tenth every 10 s without one (a spike of sockets passes)
  if (state.openCap < req.maxOpen && performance.now() - state.emfileAt >= 10_000) {
    state.openCap = Math.ceil(state.openCap * 1.1) + 1;
    state.emfileAt = performance.now();
  }
  state.maxOpen = Math.max(1, Math.min(req.maxOpen, state.openCap));
  const n = req.paths.length;
  const out = emptyResults(n);
  const specs: Array<PreparedSpec | Error | undefined> = new Array(req.specs.length);
  // dot names: graphite-web's finder hides an entry only by its own name, and its `*` matches the
  // hidden staging directory, so a graphite-web reading this tree would list `.carbonado-staging.1`
  const staging = join(req.stagingDir, `.${threadId}`);
  for (let i = 0; i < n; i++) {
    const path = req.paths[i]!;
    const t0 = performance.now();
    const done = { created: false };
    try {
      await persistOne(req, i, specs, staging, done, out, t0);
    } catch (err) {
      closeOne(path);
      let e = err as NodeJS.ErrnoException;
      if ((e.code === 'EMFILE' || e.code === 'ENFILE') && !done.created && open.size > 0) {
        // out of descriptors, and many may be the files this thread keeps open: they go, and the
        // file is tried once more. Otherwise every retry would meet the same full table, and so
        // would the process's sockets. EMFILE is this process's limit: the budget halves (and grows
        // back later); ENFILE is the system's, not ours to shrink for.
        if (e.code === 'EMFILE') {
          state.openCap = state.maxOpen = Math.max(1, Math.floor(open.size / 2));
          state.emfileAt = performance.now();
        }
        for (const p of [...open.keys()]) closeOne(p);
        try {
          await persistOne(req, i, specs, staging, done, out, t0);
          continue;
        } catch (again) {
          closeOne(path);
          e = again as NodeJS.ErrnoException;
        }
      }
      out.created[i] = done.created ? 1 : 0;
      out.ms[i] = performance.now() - t0;
      out.failures.push({ i, code: e instanceof CorruptWhisperFile ? 'corrupt' : (e.code ?? 'error'), message: e.message });
    }
  }
  return out;
}

/** Creates or updates the file of request item `i`; `done.created` tells a failure after the create. */
async function persistOne(req: PersistRequest, i: number, specs: Array<PreparedSpec | Error | undefined>, staging: string, done: { created: boolean }, out: PersistResults, t0: number): Promise<void> {
  const path = req.paths[i]!;
  const from = req.offsets[i]!;
  const to = req.offsets[i + 1]!;
  const k = req.createSpec[i]!;
  let spec: PreparedSpec | undefined;
  if (k >= 0) {
    const p = (specs[k] ??= prepareOrError(req.specs[k]!));
    if (p instanceof Error) throw p;
    spec = p;
  }
  if (spec && req.allocation === 'sparse' && !state.stagingCannotLink && !elsewhere.has(dirname(path))) {
    const r = await createWithPoints(path, req, staging, spec, from, to);
    if (typeof r === 'object') {
      settle(out, i, r, true, t0);
      return;
    }
    if (r === 'elsewhere') {
      elsewhere.add(dirname(path));
      done.created = create(path, req, spec);
    }
  } else if (spec) done.created = create(path, req, spec);
  const f = get(path);
  if (!f.header) {
    f.header = await headerOrSetAside(f.file, path);
    f.meta = readHead(f.file.fd, f.header.archives.length);
  }
  const r = await updateMany(f.file, f.header, req.times.subarray(from, to), req.values.subarray(from, to), to - from, req.now, f.bases);
  settle(out, i, r, done.created, t0);
}

function settle(out: PersistResults, i: number, r: UpdateResult, created: boolean, t0: number): void {
  out.ok[i] = 1;
  out.created[i] = created ? 1 : 0;
  out.written[i] = r.written;
  out.tooOld[i] = r.tooOld;
  out.ms[i] = performance.now() - t0;
}

parentPort!.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'close') {
    for (const p of [...open.keys()]) closeOne(p);
    parentPort!.postMessage({ type: 'closed', id: msg.id });
    return;
  }
  void persist(msg).then((results) => parentPort!.postMessage({ type: 'persisted', id: msg.id, results }, resultBuffers(results)));
});
