import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Tests that need a real peer (a Debian package, a Python module, a server) call this first.
 * In CI (CI=true) a missing peer fails the test; on a developer's bare machine the test is
 * skipped with a message naming the package to install.
 */
export function requirePeer(t: { skip(msg?: string): void }, ok: boolean, debianPackage: string): boolean {
  if (ok) return true;
  const msg = `needs the Debian package ${debianPackage} (apt-get install ${debianPackage})`;
  if (process.env.CI === 'true') throw new Error(`peer missing in CI: ${msg}`);
  t.skip(msg);
  return false;
}

/** The Debian python (the one on PATH may be a pyenv build without Debian's modules). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function hasPythonModule(mod: string): boolean {
  if (!existsSync(DEBIAN_PYTHON)) return false;
  return spawnSync(DEBIAN_PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
