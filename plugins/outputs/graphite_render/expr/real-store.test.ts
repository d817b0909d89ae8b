/**
 * The evaluator over the real stores (Whisper files, SQLite), fed through a real carbon_line
 * socket: the store's find/fetch/tag semantics meet the functions, no fakes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { definePlugin, type QueryStore } from '../../../../core/index.js';
import { portOf, startInProcess } from '../../../../test/helpers/carbonado.js';
import { builtinPlugins } from '../../../index.js';
import { evaluateTarget, parseTarget, type TimeSeries } from './index.js';

const STEP = 60;
const NOW = Math.floor(Date.now() / 1000 / STEP) * STEP;
const START = NOW - 60 * STEP;

function lines(): string {
  let out = '';
  for (let i = 0; i < 60; i++) {
    const ts = START + i * STEP;
    out += `servers.web01.cpu.user ${i} ${ts}\n`;
    out += `servers.web02.cpu.user ${2 * i} ${ts}\n`;
    if (i % 10 !== 3) out += `servers.web01.cpu.system ${i % 7} ${ts}\n`;
    out += `disk.used;server=web01;datacenter=dc1 ${100 + i} ${ts}\n`;
    out += `disk.used;datacenter=dc2;server=db01 ${200 + i} ${ts}\n`;
  }
  return out;
}

async function send(port: number, body: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port }, () => sock.end(body));
    sock.on('close', () => resolve());
    sock.on('error', reject);
  });
}

async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const vals = (s: TimeSeries | undefined): (number | null)[] => Array.from(s!.values, (v) => (Number.isNaN(v) ? null : v));

for (const kind of ['whisper', 'sqlite'] as const) {
  test(`targets over a real ${kind} store`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `carbonado-expr-${kind}-`));
    const holder: { store?: QueryStore } = {};
    const probe = definePlugin<'output', Record<string, never>>({
      kind: 'output',
      name: 'expr_probe',
      since: '0.1.0',
      description: 'test only: hands the query store to the test',
      schema: { type: 'object', properties: {}, additionalProperties: false },
      create: (ctx) => {
        holder.store = ctx.store;
        return { start: async () => {}, stop: async () => {} };
      },
    });
    const store =
      kind === 'whisper'
        ? { type: 'whisper', dataDir: join(dir, 'wsp'), schemas: [{ name: 'all', pattern: '.*', retentions: '60s:1d' }] }
        : { type: 'sqlite', path: join(dir, 'db.sqlite'), schemas: [{ name: 'all', pattern: '.*', retentions: '60s:1d' }] };
    const app = await startInProcess(
      {
        stores: { main: store },
        inputs: { carbon: { type: 'carbon_line', host: '127.0.0.1', port: 0, protocols: 'tcp' } },
        outputs: { probe: { type: 'expr_probe' } },
      },
      { plugins: [...builtinPlugins, probe] },
    );
    try {
      await send(portOf(app.listening('inputs.carbon'), 'tcp').port, lines());
      const q = holder.store!;
      const ctx = { from: START - STEP, until: NOW, now: NOW, store: q, maxSeriesPerTarget: 100 };
      const run = (t: string) => evaluateTarget(parseTarget(t), ctx);
      await until('all points readable', async () => {
        const r = await run('group(servers.*.cpu.*, seriesByTag("name=disk.used"))');
        if (process.env.DEBUG_EXPR) console.error(r.map((s) => [s.name, s.start, s.end, Array.from(s.values).slice(-3)]));
        // the last written slot is NOW - STEP; the fetch also covers the empty slot at NOW
        return r.length === 5 && r.every((s) => !Number.isNaN(s.values[s.values.length - 2]!));
      });

      const [sum] = await run('sumSeries(servers.*.cpu.user)');
      assert.equal(sum!.name, 'sumSeries(servers.*.cpu.user)');
      assert.equal(sum!.step, STEP);
      assert.deepEqual(vals(sum).slice(0, 3), [0, 3, 6]);

      const wrapped = await run('aliasSub(servers.web0*.cpu.user, "(^.*$)", "\\1 A")');
      assert.deepEqual(
        wrapped.map((s) => s.name),
        ['servers.web01.cpu.user A', 'servers.web02.cpu.user A'],
      );

      const [avg] = await run('movingAverage(servers.web01.cpu.user, 2)');
      // graphite-web 1.1.8 averages the N points before each point, not including it
      assert.deepEqual(vals(avg).slice(0, 3), [null, 0, 0.5]);

      const [shifted] = await run('timeShift(servers.web01.cpu.user, "5min")');
      assert.equal(shifted!.start, sum!.start);
      assert.equal(vals(shifted)[10], 5);

      const [kept] = await run('keepLastValue(servers.web01.cpu.system)');
      assert.equal(vals(kept)[3], 2);

      const byDc = await run("aliasByTags(groupByTags(seriesByTag('name=disk.used'), 'sum', 'datacenter'), 'datacenter')");
      assert.deepEqual(
        byDc.map((s) => [s.name, s.values[0]]),
        [
          ['dc1', 100],
          ['dc2', 200],
        ],
      );
      const tagged = await run("seriesByTag('name=disk.used', 'server=~web')");
      assert.deepEqual(
        tagged.map((s) => [s.name, s.tags]),
        [['disk.used;datacenter=dc1;server=web01', { name: 'disk.used', datacenter: 'dc1', server: 'web01' }]],
      );
      const [c] = await run('constantLine(100)');
      assert.equal(c!.name, '100.0');
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
