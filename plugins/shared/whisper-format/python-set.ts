/**
 * The iteration order of CPython 3's `set(list_of_ints)`.
 *
 * Why this exists: whisper propagates to a lower archive once per distinct lower interval, in the
 * order Python iterates a set of those intervals. When the lower archive is still empty, the first
 * successful propagation becomes its base (slot 0), so the order decides where every later point
 * lands on disk. Reproducing it keeps our files byte-identical to Python whisper's.
 *
 * Model (CPython setobject.c, 3.5 to 3.12): open addressing over a power-of-two table (8 slots
 * at first); a key's hash is the integer itself; a probe looks at slot i and up to 9 following
 * slots (when they fit before the end), then jumps to (5i + 1 + perturb) & mask with
 * perturb >>= 5; after an insert, when fill × 5 ≥ mask × 3 the table grows to the smallest power
 * of two above used × 4 (× 2 past 50,000 keys) and the keys are reinserted in table order.
 * Valid for non-negative integers below 2^53 (timestamps).
 */
const LINEAR_PROBES = 9;
const MIN_SIZE = 8;

export function pythonSetOrder(values: readonly number[]): number[] {
  let size = MIN_SIZE;
  let table: Array<number | undefined> = new Array(size).fill(undefined);
  let used = 0;
  for (const v of values) {
    if (insert(table, size, v)) {
      used++;
      const mask = size - 1;
      if (used * 5 >= mask * 3) {
        const minUsed = used > 50000 ? used * 2 : used * 4;
        let newSize = MIN_SIZE;
        while (newSize <= minUsed) newSize *= 2;
        const next: Array<number | undefined> = new Array(newSize).fill(undefined);
        for (const k of table) if (k !== undefined) insert(next, newSize, k);
        table = next;
        size = newSize;
      }
    }
  }
  const out: number[] = [];
  for (const k of table) if (k !== undefined) out.push(k);
  return out;
}

/** Inserts `key` unless present; returns true when it was added. */
function insert(table: Array<number | undefined>, size: number, key: number): boolean {
  const mask = size - 1;
  let perturb = key;
  let i = key % size;
  for (;;) {
    const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
    for (let j = 0; j <= probes; j++) {
      const cur = table[i + j];
      if (cur === undefined) {
        table[i + j] = key;
        return true;
      }
      if (cur === key) return false;
    }
    perturb = Math.floor(perturb / 32);
    i = (i * 5 + 1 + perturb) % size;
  }
}
