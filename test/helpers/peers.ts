import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Tests that need a real peer (a Debian package, a Python module, a server) call this first.
 * In CI (CI=true) a missing peer fails the test; on a developer's bare machine the test is
 * skipped with a message naming the package to install.
 */
export function requirePeer(t: { skip(msg?: string): void }, ok: boolean, debianPackage: string): boolean {
  return requireHere(t, ok, `needs the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
}

/** The same rule for what a test needs of the machine rather than a package (root, a writable cgroup). */
export function requireHere(t: { skip(msg?: string): void }, ok: boolean, need: string): boolean {
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`missing in CI: ${need}`);
  t.skip(need);
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

/**
 * The shared/ folder beside the repository (its bench anchors launch the reference daemons).
 * CI lays a copy of it beside the clone; CARBONADO_SHARED overrides.
 */
export const SHARED_DIR = process.env.CARBONADO_SHARED ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
