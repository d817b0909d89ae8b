import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../../../core/index.js';

/**
 * Where a follower stands in one file. (dev, ino) tells whether the path still names that file;
 * the fingerprint of its first bytes guards against a deleted file's inode number being reused
 * by the next file (filesystems do that at once).
 */
export interface SavedOffset {
  readonly dev: number;
  readonly ino: number;
  /** byte offset just after the last complete line handed on */
  readonly offset: number;
  /** how many leading bytes headHash covers (0: none known yet) */
  readonly headBytes: number;
  /** sha1 (hex) of the first headBytes bytes */
  readonly headHash: string;
}

const VERSION = 1;

/**
 * Reads the state file. A missing file is a first start; an unreadable or foreign one is reported
 * through `onCorrupt` and ignored (the tail then starts as configured instead of failing the boot).
 */
export async function loadOffsets(path: string, onCorrupt: (why: string) => void): Promise<Map<string, SavedOffset>> {
  const out = new Map<string, SavedOffset>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onCorrupt((err as Error).message);
    return out;
  }
  try {
    const doc = JSON.parse(text) as { version?: unknown; files?: Record<string, Partial<SavedOffset>> };
    if (doc.version !== VERSION || typeof doc.files !== 'object' || doc.files === null) throw new Error(`not a version ${VERSION} offsets file`);
    for (const [file, o] of Object.entries(doc.files)) {
      if (Number.isSafeInteger(o.dev) && Number.isSafeInteger(o.ino) && Number.isSafeInteger(o.offset) && o.offset! >= 0) {
        const fp = Number.isSafeInteger(o.headBytes) && typeof o.headHash === 'string' ? { headBytes: o.headBytes!, headHash: o.headHash } : { headBytes: 0, headHash: '' };
        out.set(file, { dev: o.dev!, ino: o.ino!, offset: o.offset!, ...fp });
      }
    }
  } catch (err) {
    onCorrupt((err as Error).message);
  }
  return out;
}

/** Writes the state atomically (temp file + rename), so a crash mid-write leaves the old state. */
export async function saveOffsets(path: string, offsets: ReadonlyMap<string, SavedOffset>): Promise<void> {
  const doc = { version: VERSION, files: Object.fromEntries(offsets) };
  await writeFileAtomically(path, `${JSON.stringify(doc, null, 1)}\n`);
}
