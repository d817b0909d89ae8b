import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * How many cores this process may really use: the CPU affinity Node reports, lowered to a
 * cgroup CPU quota when one is set. Node 20's `availableParallelism()` ignores quotas, so in a
 * container started with `--cpus=1` on a 16-core host it says 16, and sizing thread pools by it
 * would have many threads fight over one core's worth of time.
 *
 * Read once at start-up (small files under /sys, not a hot path); any unreadable or unexpected
 * content means "no quota".
 */
export function usableCores(read: (path: string) => string | undefined = readText): number {
  const affinity = availableParallelism();
  const quota = cgroupCpuQuota(read);
  return quota === undefined ? affinity : Math.max(1, Math.min(affinity, Math.ceil(quota)));
}

/** The CPU quota in cores (e.g. 1.5), or undefined when none applies. Exported for tests. */
export function cgroupCpuQuota(read: (path: string) => string | undefined = readText): number | undefined {
  const membership = read('/proc/self/cgroup');
  if (membership === undefined) return undefined;
  let limit: number | undefined;
  const lower = (cores: number | undefined): void => {
    if (cores !== undefined && (limit === undefined || cores < limit)) limit = cores;
  };
  for (const line of membership.split('\n')) {
    const [, controllers, path] = line.split(':', 3) as [string, string | undefined, string | undefined];
    if (controllers === undefined || path === undefined) continue;
    if (controllers === '') {
      // cgroup v2: every level from ours up to the root may carry its own cpu.max
      for (const dir of ancestors(path)) lower(parseCpuMax(read(`/sys/fs/cgroup${dir}/cpu.max`)));
    } else if (controllers.split(',').includes('cpu')) {
      for (const dir of ancestors(path)) {
        for (const mount of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
          lower(parseCfsQuota(read(`${mount}${dir}/cpu.cfs_quota_us`), read(`${mount}${dir}/cpu.cfs_period_us`)));
        }
      }
    }
  }
  return limit;
}

/** `cpu.max` (v2): "max 100000" or "<quota> <period>" in microseconds. */
export function parseCpuMax(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return ratio(Number(quota), Number(period ?? 100000));
}

/** `cpu.cfs_quota_us` and `cpu.cfs_period_us` (v1): a quota of -1 means none. */
export function parseCfsQuota(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined) return undefined;
  return ratio(Number(quota.trim()), Number(period.trim()));
}

function ratio(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/** "/a/b" → "/a/b", "/a", "" (the root, as a path suffix). */
function ancestors(path: string): string[] {
  const out: string[] = [];
  let dir = path.endsWith('/') ? path.slice(0, -1) : path;
  for (;;) {
    out.push(dir);
    if (dir === '') return out;
    dir = dir.slice(0, dir.lastIndexOf('/'));
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
