import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cgroupCpuQuota, parseCfsQuota, parseCpuMax, usableCores } from '../../core/index.js';
import { REPO_ROOT } from '../helpers/carbonado.js';
import { requireHere } from '../helpers/peers.js';

const files = (map: Record<string, string>) => (path: string): string | undefined => map[path];

test('cpu.max and cfs quota files are read as cores', () => {
  assert.equal(parseCpuMax('max 100000\n'), undefined);
  assert.equal(parseCpuMax('150000 100000\n'), 1.5);
  assert.equal(parseCpuMax('50000\n'), 0.5, 'the period defaults to 100 ms');
  assert.equal(parseCpuMax('garbage here'), undefined);
  assert.equal(parseCfsQuota('-1\n', '100000\n'), undefined);
  assert.equal(parseCfsQuota('200000\n', '100000\n'), 2);
  assert.equal(parseCfsQuota('0', '100000'), undefined);
});

test('cgroup v2: the tightest cpu.max from our group up to the root wins', () => {
  const read = files({
    '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
    '/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max': 'max 100000\n',
    '/sys/fs/cgroup/kubepods/pod1/cpu.max': '120000 100000\n',
    '/sys/fs/cgroup/kubepods/cpu.max': '400000 100000\n',
  });
  assert.equal(cgroupCpuQuota(read), 1.2);
  assert.equal(usableCores(read), Math.min(availableParallelism(), 2), 'rounded up, never above the affinity');
});

test('cgroup v1: cpu or cpu,cpuacct mounts, -1 is no quota', () => {
  const v1 = files({
    '/proc/self/cgroup': '4:memory:/x\n3:cpu,cpuacct:/docker/abc\n0::/\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
    '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
  });
  assert.equal(cgroupCpuQuota(v1), 0.5);
  assert.equal(usableCores(v1), 1, 'never below one core');
  const none = files({ '/proc/self/cgroup': '1:cpu:/\n', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' });
  assert.equal(cgroupCpuQuota(none), undefined);
  assert.equal(usableCores(none), availableParallelism());
  assert.equal(usableCores(files({})), availableParallelism(), 'no /proc: the affinity');
});

test('a process in a real cgroup with half a core of quota sizes itself to one core', (t) => {
  // on one core the count cannot tell the quota from the affinity, but the quota read still can
  const group = `/sys/fs/cgroup/cpu/carbonado-test-${process.pid}`;
  let made = '';
  try {
    mkdirSync(group);
    writeFileSync(`${group}/cpu.cfs_quota_us`, '50000');
  } catch (err) {
    try { rmdirSync(group); } catch { /* was never made */ }
    made = `cannot make a cgroup v1 cpu group here (${(err as NodeJS.ErrnoException).code ?? err})`;
  }
  if (!requireHere(t, made === '', `root and a writable /sys/fs/cgroup/cpu: ${made}`)) return;
  try {
    // the shell moves itself into the group, then becomes node: the child starts with the quota
    const probe = `import('./core/runtime/usable-cores.ts').then((m) => console.log(JSON.stringify([m.usableCores(), m.cgroupCpuQuota()])))`;
    const out = spawnSync('sh', ['-c', `echo $$ > ${group}/cgroup.procs && exec "${process.execPath}" --import tsx -e "${probe}"`], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), [1, 0.5]);
  } finally {
    rmdirSync(group);
  }
});
