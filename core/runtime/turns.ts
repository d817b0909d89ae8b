/**
 * For a long run of work on the event loop, done in pieces: `await turn()` between pieces gives
 * the loop a turn (setImmediate, after pending I/O) once `sliceMs` have passed since the last
 * one, and otherwise goes on at once. Awaiting a settled promise never lets I/O run, so a store
 * answering from memory, or many quick finds, would otherwise hold the loop for the whole run.
 */
export function turnTaker(sliceMs: number): () => Promise<void> {
  let lastTurn = performance.now();
  return async () => {
    if (performance.now() - lastTurn <= sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    lastTurn = performance.now();
  };
}
