/**
 * Placement golden tests against the originals themselves: Python carbon's ConsistentHashingRouter
 * (Debian graphite-carbon, imported by the Debian python) for carbon_ch, and carbon-c-relay's
 * test mode (`-t`) for fnv1a_ch and jump_fnv1a_ch, over 100,000 plain and tagged names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRing, formatMember, parseMember, type RingMethod, type ReplicaPlacement } from '../../plugins/shared/ring/ring.js';
import { DEBIAN_PYTHON, hasCommand, hasPythonModule, requirePeer } from '../helpers/peers.js';
import { generateNames } from './names.js';

const NAMES = generateNames(100_000);
const INPUT = NAMES.join('\n') + '\n';

const THREE = ['10.0.0.1:2003', '10.0.0.2:2003', '10.0.0.3:2003'];
const FIVE = ['10.0.0.1:2003', '10.0.0.2:2004', '10.0.0.3:2003', '10.0.0.4:2003', '10.0.0.5:2003'];
// instances: several carbon-caches on one host, the classic carbon_ch layout
const INSTANCES = ['127.0.0.1:2103=a', '127.0.0.1:2203=b', '127.0.0.2:2103=a', '127.0.0.2:2203=b', '127.0.0.3:2103=c'];

function ours(method: RingMethod, dests: string[], replication: number, placement?: ReplicaPlacement): string[] {
  const members = dests.map(parseMember);
  const ring = createRing(members, { method, replication, ...(placement ? { replicaPlacement: placement } : {}) });
  return NAMES.map((n) => ring.nodes(n).map((i) => formatMember(members[i]!)).join(','));
}

/**
 * Python carbon's router, all configurations in one run (the names are read once); prints one
 * JSON object: config index → placements (`host:port[=instance],...` per name).
 */
const PY_ROUTER = `
import sys, json
from carbon.routers import ConsistentHashingRouter
class S(dict):
    __getattr__ = dict.__getitem__
configs = json.loads(sys.argv[1])
names = [l for l in sys.stdin.buffer.read().decode('utf-8').split('\\n') if l]
out = []
for c in configs:
    r = ConsistentHashingRouter(S(REPLICATION_FACTOR=c['rf'], DIVERSE_REPLICAS=c['diverse'], ROUTER_HASH_TYPE='carbon_ch'))
    for d in c['dests']:
        hp, _, inst = d.partition('=')
        h, p = hp.rsplit(':', 1)
        r.addDestination((h, int(p), inst or None))
    out.append([','.join('%s:%d%s' % (h, p, '=' + i if i else '') for (h, p, i) in r.getDestinations(n)) for n in names])
sys.stdout.write(json.dumps(out))
`;

interface PyConfig {
  dests: string[];
  rf: number;
  diverse: boolean;
}

function python(configs: PyConfig[]): string[][] {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', PY_ROUTER, JSON.stringify(configs)], { input: INPUT, maxBuffer: 512 << 20, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

/** carbon-c-relay -t: per metric a block `match\n    * -> NAME\n    METHOD(g)\n        host:port...` */
function cRelay(method: RingMethod, dests: string[], rf: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'crelay-'));
  try {
    const conf = join(dir, 'relay.conf');
    writeFileSync(conf, `cluster g ${method} replication ${rf}\n  ${dests.join('\n  ')};\nmatch * send to g stop;\n`);
    const r = spawnSync('carbon-c-relay', ['-t', '-f', conf], { input: NAMES.map((n) => `${n} 1 1`).join('\n') + '\n', maxBuffer: 256 << 20, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const byName: string[] = [];
    const lines = r.stdout.split('\n');
    let cur: string[] | undefined;
    for (const line of lines) {
      const arrow = line.match(/^\s+\* -> (.*)$/);
      if (arrow) {
        cur = [];
        byName.push('');
        continue;
      }
      const dest = line.match(/^ {8}(\S+)$/);
      if (dest && cur) {
        cur.push(dest[1]!);
        byName[byName.length - 1] = cur.join(',');
      }
    }
    return byName;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertSame(got: string[], want: string[], label: string): void {
  assert.equal(got.length, want.length, `${label}: answer count`);
  const diffs: string[] = [];
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diffs.push(`${NAMES[i]}: ours ${got[i]} theirs ${want[i]}`);
  assert.equal(diffs.length, 0, `${label}: ${diffs.length} of ${want.length} misplaced, e.g.\n${diffs.slice(0, 5).join('\n')}`);
}

test('carbon_ch equals Python carbon ConsistentHashingRouter on 100,000 names', (t) => {
  if (!requirePeer(t, hasPythonModule('carbon.routers'), 'graphite-carbon')) return;
  // replication 1 is the first destination of replication 2 in both implementations (one walk of
  // the ring), yet both are computed and compared separately
  const configs: PyConfig[] = [];
  for (const dests of [THREE, FIVE, INSTANCES]) {
    for (const rf of [1, 2]) {
      // diversity only changes anything when two instances share a host
      for (const diverse of dests === INSTANCES ? [true, false] : [true]) configs.push({ dests, rf, diverse });
    }
  }
  const theirs = python(configs);
  configs.forEach((c, k) => {
    const got = ours('carbon_ch', c.dests, c.rf, c.diverse ? 'distinct_hosts' : 'ring_order');
    assertSame(got, theirs[k]!, `carbon_ch ${c.dests.length} destinations${c.dests === INSTANCES ? ' with instances' : ''}, replication ${c.rf}, diverse ${c.diverse}`);
  });
});

test('fnv1a_ch and jump_fnv1a_ch equal carbon-c-relay test mode on 100,000 names', (t) => {
  if (!requirePeer(t, hasCommand('carbon-c-relay'), 'carbon-c-relay')) return;
  const jumpInstances = ['10.0.0.1:2003=2', '10.0.0.2:2003=10', '10.0.0.3:2003=1', '10.0.0.4:2003'];
  const fnvInstances = ['10.0.0.1:2003=4d79d13554fa13', '10.0.0.2:2003=a81b5c0e9d', '10.0.0.3:2003'];
  for (const method of ['fnv1a_ch', 'jump_fnv1a_ch'] as const) {
    const sets: Array<[string[], string]> = [[THREE, '3'], [FIVE, '5'], [method === 'fnv1a_ch' ? fnvInstances : jumpInstances, 'with instances']];
    for (const [dests, label] of sets) {
      for (const rf of [1, 2]) {
        const want = cRelay(method, dests, rf);
        // test mode prints members as host:port, without the instance
        const got = ours(method, dests, rf).map((d) => d.replace(/=[^,]*/g, ''));
        assertSame(got, want, `${method} ${label} destinations, replication ${rf}`);
      }
    }
  }
});
