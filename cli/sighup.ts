/**
 * SIGHUP before carbonado can reload. Node's default action for it is to end the process, and
 * start-up can take a while (a WAL replay, the walk of a large tree): a `systemctl reload` right
 * after a start killed the daemon, and systemd counts death by SIGHUP as a clean exit, so it
 * stayed down. Held from the first line of the entry point; the reload runs once started.
 */
const state: { held: boolean; pending: number; reload: (() => void) | undefined } = { held: false, pending: 0, reload: undefined };

function onSighup(): void {
  if (state.reload) state.reload();
  else state.pending++;
}

/** From now on a SIGHUP is remembered (or, once `reloadWith` has been called, reloads). */
export function holdSighup(): void {
  if (state.held) return;
  state.held = true;
  process.on('SIGHUP', onSighup);
}

/** SIGHUPs reload with `reload` from now on; returns how many arrived while held. */
export function reloadWith(reload: () => void): number {
  holdSighup();
  state.reload = reload;
  const pending = state.pending;
  state.pending = 0;
  return pending;
}
