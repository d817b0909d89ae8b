// Python's %-formatting of a float, as graphite-web names series with it, checked against the
// Python interpreter itself: every template with every value, errors included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DEBIAN_PYTHON, requirePeer } from '../../../../test/helpers/peers.js';
import { PyFormatError, pyFixed, pyG, pyPercent, pyRound, roundExact } from './pyformat.js';

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

/** what perSecond, scaleToSeconds and round() see: rates, decimals, exact ties, random doubles */
function roundingValues(count: number, seed0: number): number[] {
  let seed = seed0;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const view = new DataView(new ArrayBuffer(8));
  const vs = [0.5, 1.5, 2.5, -0.5, -2.5, 0.0078125, 0.0234375, -0.0078125, 2.675, 0.125, 1e15 + 0.5, 1e15 + 0.125, 4503599627370495.5,
    2 ** 52, 2 ** 52 + 1, 5e-324, -1e-7, 1e-7, 999999.9999995, 0.9999995, 123.4565, 1e22, 1e-22];
  while (vs.length < count) {
    const k = vs.length % 7;
    if (k === 0) {
      view.setUint32(0, Math.floor(rand() * 2 ** 32));
      view.setUint32(4, Math.floor(rand() * 2 ** 32));
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) vs.push(x);
    } else if (k === 1) vs.push((Math.floor(rand() * 2 ** 20) * 2 + 1) / 2 ** Math.floor(rand() * 12)); // ties at some n
    else if (k === 2) vs.push(Math.floor(rand() * 1e6) / 60); // counter deltas over a minute step
    else if (k === 3) vs.push(Math.floor(rand() * 1e9) / 10 ** Math.floor(rand() * 10)); // short decimals
    else if (k === 4) vs.push((rand() - 0.5) * 10 ** Math.floor(rand() * 20 - 8));
    else if (k === 5) vs.push(Math.floor(rand() * 2 ** 30) / 2 ** 7 + 0.5 / 10 ** Math.floor(rand() * 8));
    else {
      // decimal ties written in binary (1.15 is 1.149999…, 0.15 is 0.150000…1): x·10ⁿ lands within its error of a half
      const n = Math.floor(rand() * 7);
      vs.push(Math.floor(rand() * 10 ** Math.floor(1 + rand() * 8)) / 10 ** n + 5 / 10 ** (n + 1));
    }
  }
  return vs;
}

const PY_ROUND = `
import json, sys
req = json.load(sys.stdin)
print(json.dumps([[repr(round(float(v), n)) for v in req['values']] for n in req['digits']]))
`;

test("pyRound rounds as Python's round(x, n) does (checked against python3)", (t) => {
  if (!requirePeer(t, existsSync(DEBIAN_PYTHON), 'python3')) return;
  const vs = roundingValues(20_000, 4242);
  const digits = [0, 1, 2, 3, 6, 10, 15, -1, -2];
  const run = spawnSync(DEBIAN_PYTHON, ['-c', PY_ROUND], { input: JSON.stringify({ digits, values: vs.map((v) => v.toPrecision(17)) }), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, run.stderr);
  const want = JSON.parse(run.stdout) as string[][];
  const bad: string[] = [];
  digits.forEach((n, j) => {
    vs.forEach((v, i) => {
      const w = Number(want[j]![i]);
      const got = pyRound(v, n);
      // Python keeps the sign of a zero (round(-0.1) is -0.0); a zero is a zero in every answer format
      if (got !== w) bad.push(`round(${v.toPrecision(17)}, ${n}): ${got}, python ${want[j]![i]}`);
    });
  });
  assert.deepEqual(bad.slice(0, 20), [], `${bad.length} differences of ${digits.length * vs.length}`);
});

test('pyRound takes the fast path without changing a single answer (300,000 values against the exact expansion)', () => {
  const vs = roundingValues(300_000, 777);
  let bad = 0;
  let first = '';
  for (const n of [0, 1, 2, 3, 6]) {
    for (const v of vs) {
      const a = pyRound(v, n);
      const b = roundExact(v, n);
      if (!Object.is(a, b)) {
        bad++;
        first ||= `round(${v.toPrecision(17)}, ${n}): fast ${a}, exact ${b}`;
      }
    }
  }
  assert.equal(bad, 0, first);
});
