import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { spawnCarbonado, portOf } from '../../../test/helpers/carbonado.js';

/** The documented window: a kill -9 loses at most the points accepted in the last second or so. */
const WINDOW_MS = 2000;

test('sqlite: kill -9 during sustained writes, 3 times: the database opens and nothing older than the window is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-sqlite-crash-'));
  const path = join(dir, 'carbonado.db');
  const sentAt: number[] = []; // send time of point value i
  let seq = 0;
  const base = Math.floor(Date.now() / 1000) - 3000;
  const mustHave: number[] = []; // sent more than the window before the kill of their own round
  for (let round = 0; round < 3; round++) {
    const first = seq;
    const p = await spawnCarbonado({
      inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
      stores: { db: { type: 'sqlite', path, schemas: [{ pattern: '.*', retentions: '1s:2h' }] } },
    });
    const { port } = portOf(p.listening('inputs.carbon'), 'tcp');
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.on('connect', r));
    const until = Date.now() + 1200 + round * 300;
    while (Date.now() < until) {
      let chunk = '';
      for (let k = 0; k < 200; k++, seq++) {
        chunk += `crash.s${seq % 20} ${seq} ${base + Math.floor(seq / 20)}\n`;
        sentAt[seq] = Date.now();
      }
      sock.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    const killedAt = Date.now();
    p.kill('SIGKILL');
    await p.exited;
    sock.destroy();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT value FROM points').all() as Array<{ value: number }>;
    assert.equal((db.pragma('integrity_check', { simple: true }) as string), 'ok');
    db.close();
    const have = new Set(rows.map((r) => r.value));
    for (let v = first; v < seq; v++) if (sentAt[v]! < killedAt - WINDOW_MS) mustHave.push(v);
    const lost = mustHave.filter((v) => !have.has(v));
    assert.deepEqual(lost.slice(0, 10), [], `round ${round}: ${lost.length} points older than ${WINDOW_MS} ms lost`);
  }
});
