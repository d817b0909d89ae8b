// Python's %-formatting of a float, as graphite-web names series with it, checked against the
// Python interpreter itself: every template with every value, errors included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DEBIAN_PYTHON, requirePeer } from '../../../../test/helpers/peers.js';
import { PyFormatError, pyFixed, pyG, pyPercent } from './pyformat.js';

const TEMPLATES = [
  '%s', '%r', '%a', '%d', '%i', '%u', '%ld', '%5.1f', '%e', '%E', '%.0f', '%#.0f', '%f', '%F', '%g', '%#g', '%G',
  '%.3g', '%.0g', '%#.3g', '%+d', '% d', '%+.2f', '% .3e', '%-8.2f|', '%08.3f', '%-08.1f|', '%.2f', '%.10e',
  '%.17g', '%.0e', '%#.0e', '%10s', '%-10r|', '%.3s', '%.s', '%%%d%%', 'val %5.1f', '%.5d', '%+08d', '%20.12g',
  '%c', '%x', '%o', '%s %d', 'abc', '%(a)s', '%*d', '%.*f', '%', 'x %', '%y', '100%%', '%.f',
];

/** values where JavaScript's rounding differs from Python's, extremes, and random doubles */
function values(): number[] {
  const vs = [0, -0, 0.125, 0.375, -0.125, 2.5, 0.5, 1.5, -2.5, 1234565, 12345650, 0.0001234565, 1e21, 1.5e21, 1e300, -1e300,
    2 ** 60, 2 ** 53 + 2, 5e-324, 1e-310, 1.5e-5, 9.9999995, 99.995, 0.995, 999999.5, 1e16, 123456789012.345, -0.4, -0.5,
    Infinity, -Infinity, NaN, 19, 3, 0.1, 2.675];
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 60; i++) {
    view.setUint32(0, Math.floor(rand() * 2 ** 32));
    view.setUint32(4, Math.floor(rand() * 2 ** 32));
    const x = view.getFloat64(0);
    if (Number.isFinite(x)) vs.push(x);
    vs.push(Math.round(rand() * 1e6) / 8 - 60000); // eighths: ties at 2 decimals
  }
  return vs;
}

const asPython = (v: number): string => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : Object.is(v, -0) ? '-0.0' : String(v));

const PY = `
import json, sys
req = json.load(sys.stdin)
out = []
for t in req['templates']:
    for v in req['values']:
        try:
            out.append(t % float(v))
        except Exception:
            out.append(None)
print(json.dumps(out))
`;

test("pyPercent, pyFixed and pyG format floats as Python's % operator does (checked against python3)", (t) => {
  if (!requirePeer(t, existsSync(DEBIAN_PYTHON), 'python3')) return;
  const vs = values();
  const templates = [...TEMPLATES, '%.2f', '%g'];
  const run = spawnSync(DEBIAN_PYTHON, ['-c', PY], { input: JSON.stringify({ templates, values: vs.map(asPython) }), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const want = JSON.parse(run.stdout) as Array<string | null>;
  const bad: string[] = [];
  let i = 0;
  for (const tpl of TEMPLATES) {
    for (const v of vs) {
      const w = want[i++];
      let got: string | null;
      try {
        got = pyPercent(tpl, v);
      } catch (err) {
        if (!(err instanceof PyFormatError)) throw err;
        got = null;
      }
      if (got !== w) bad.push(`${JSON.stringify(tpl)} % ${asPython(v)}: ${JSON.stringify(got)}, python ${JSON.stringify(w)}`);
    }
  }
  for (const [name, f] of [['pyFixed(x, 2)', (x: number) => pyFixed(x, 2)], ['pyG(x)', (x: number) => pyG(x)]] as const) {
    for (const v of vs) {
      const w = want[i++];
      if (f(v) !== w) bad.push(`${name} of ${asPython(v)}: ${JSON.stringify(f(v))}, python ${JSON.stringify(w)}`);
    }
  }
  assert.deepEqual(bad.slice(0, 20), [], `${bad.length} differences of ${want.length}`);
});
