// Whisper files (Graphite's format, byte-compatible with Python whisper 1.1.4), async positioned I/O.
export * from './header.js';
export { createWhisper, validateArchiveList, InvalidConfiguration, type CreateOptions } from './create.js';
export { updateMany, aggregate, MAX_TIMESTAMP, type UpdateResult, type BaseCache } from './update.js';
export { fetchWhisper, fetchArchive, fetchWindow, emptyFetch, fetchGrid, selectArchive, InvalidTimeInterval, type FetchResult, type FetchWindow } from './fetch.js';
export { pythonSetOrder } from './python-set.js';
export { SyncFile, createWhisperSync, writeFully, type WhisperFile } from './io.js';
export { NewFileImage } from './new-file.js';
