/**
 * `carbonado route` end to end: the CLI as an operator runs it, against carbon-c-relay's own
 * test mode on the same destinations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/carbonado.js';
import { hasCommand, requirePeer } from '../helpers/peers.js';
import { generateNames } from './names.js';
import { carbonadoFromSource } from '../helpers/from-source.js';

const DESTS = ['10.1.0.1:2003', '10.1.0.2:2003', '10.1.0.3:2004', '10.1.0.4:2003'];

function carbonado(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [...carbonadoFromSource(), ...args], { cwd: REPO_ROOT, input, encoding: 'utf8', maxBuffer: 64 << 20 });
}

test('carbonado route prints the placement carbon-c-relay -t prints (jump_fnv1a_ch, replication 2)', (t) => {
  if (!requirePeer(t, hasCommand('carbon-c-relay'), 'carbon-c-relay')) return;
  const dir = mkdtempSync(join(tmpdir(), 'route-cli-'));
  try {
    const names = generateNames(5000, 7).filter((n) => !n.includes(';'));
    writeFileSync(join(dir, 'c.yaml'), `stores:\n  relay:\n    type: carbon_relay\n    method: jump_fnv1a_ch\n    replication: 2\n    destinations: ${JSON.stringify(DESTS)}\n`);
    const ours = carbonado(['route', '--config', join(dir, 'c.yaml')], names.map((n) => `${n} 1 1700000000`).join('\n') + '\n');
    assert.equal(ours.status, 0, ours.stderr);
    const lines = ours.stdout.trim().split('\n');
    assert.equal(lines.length, names.length);

    writeFileSync(join(dir, 'relay.conf'), `cluster g jump_fnv1a_ch replication 2 ${DESTS.join(' ')};\nmatch * send to g stop;\n`);
    const theirs = spawnSync('carbon-c-relay', ['-t', '-f', join(dir, 'relay.conf')], { input: names.map((n) => `${n} 1 1`).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
    const placed: string[] = [];
    for (const l of theirs.stdout.split('\n')) {
      if (/^\s+\* -> /.test(l)) placed.push(`${l.trim().slice(5)} ->`);
      else if (/^ {8}\S+$/.test(l) && placed.length > 0) placed[placed.length - 1] += (placed[placed.length - 1]!.endsWith('->') ? ' ' : ',') + l.trim();
    }
    assert.deepEqual(lines, placed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('carbonado route: names as arguments, canonical tags, invalid names, and config errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'route-cli-'));
  try {
    writeFileSync(join(dir, 'c.yaml'), `stores:\n  relay:\n    type: carbon_relay\n    destinations: ["127.0.0.1:2103=a", "127.0.0.1:2203=b"]\n    replicaPlacement: ring_order\n    replication: 2\n    rules:\n      - { match: "^junk\\\\.", action: drop }\n`);
    const r = carbonado(['route', '--config', join(dir, 'c.yaml'), 'cpu.load;host=b;dc=x', 'junk.x', 'a..b']);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.trim().split('\n');
    assert.match(out[0]!, /^cpu\.load;dc=x;host=b -> 127\.0\.0\.1:(2103,127\.0\.0\.1:2203|2203,127\.0\.0\.1:2103)$/);
    assert.equal(out[1], 'junk.x -> (dropped by rule)');
    assert.match(out[2]!, /^a\.\.b -> \(invalid: /);

    writeFileSync(join(dir, 'bad.yaml'), 'stores:\n  relay:\n    type: carbon_relay\n    destinations: ["127.0.0.1:2003", "127.0.0.1:2004"]\n');
    const bad = carbonado(['route', '--config', join(dir, 'bad.yaml'), 'x']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /give each an instance/);
    // check-config reports the same, through the plugin's validate() hook
    const check = carbonado(['check-config', join(dir, 'bad.yaml')]);
    assert.equal(check.status, 1);
    assert.match(check.stderr, /stores\.relay \(carbon_relay\): destination 127\.0\.0\.1:2004 repeats/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
