import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCarbonado, portOf, REPO_ROOT } from '../helpers/carbonado.js';

test('SIGTERM during a TCP stream: every line that was read reaches the store before exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbonado-sigterm-'));
  const out = join(dir, 'points.txt');
  const p = await spawnCarbonado({
    plugins: [join(REPO_ROOT, 'test/fixtures/plugins/file-sink-store.mjs')],
    inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
    stores: { sink: { type: 'file_sink_store', path: out } },
  });
  const { port } = portOf(p.listening('inputs.carbon'), 'tcp');
  const sock = connect(port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  sock.on('error', () => {});
  let seq = 0;
  let open = true;
  sock.on('close', () => (open = false));
  const started = Date.now();
  let killed = false;
  // write as fast as the socket takes it; SIGTERM after 700 ms, keep writing until the peer closes
  while (open && Date.now() - started < 15_000) {
    let chunk = '';
    for (let i = 0; i < 500; i++) chunk += `seq.n${seq % 7} ${seq++} 1700000000\n`;
    const ok = sock.write(chunk);
    if (!killed && Date.now() - started > 700) {
      p.kill('SIGTERM');
      killed = true;
    }
    if (!ok) await new Promise((r) => setTimeout(r, 1));
  }
  const code = await p.exited;
  sock.destroy();
  assert.equal(code, 0, p.output());
  const values = readFileSync(out, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));
  assert.ok(values.length > 1000, `only ${values.length} points were read before SIGTERM`);
  // the store holds exactly the first N lines sent: no gap, nothing read and then lost
  values.forEach((v, i) => assert.equal(v, i));
  const received = Number(/stopped inputs\.carbon received=(\d+)/.exec(p.output())![1]);
  assert.equal(values.length, received, 'every line the input parsed was stored');
  assert.ok(seq > values.length, 'the client was still sending when carbonado stopped');
});
