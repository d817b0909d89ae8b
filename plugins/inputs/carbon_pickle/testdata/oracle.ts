// Test support: run the Python helpers in this folder (golden frames from the real pickle module,
// decoding with carbon's own unpickler) and our decoder side by side.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DEBIAN_PYTHON, hasPythonModule } from '../../../../test/helpers/peers.js';
import { PickleDecoder, type FrameRefusal, type ItemSkip, type PickleLimits } from '../pickle-decoder.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** the plugin's defaults, as its schema gives them */
export const DEFAULT_LIMITS: PickleLimits = { maxItemsPerFrame: 1_048_576, maxDepth: 16, maxMemoEntries: 1_048_576 };

export function hasCarbon(): boolean {
  return hasPythonModule('carbon.util');
}

export interface Decoded {
  refusal: FrameRefusal | undefined;
  detail: string;
  points: Array<[string, number, number]>;
  skips: ItemSkip[];
}

export function decodeFrame(decoder: PickleDecoder, frame: Buffer, now = 1_800_000_000): Decoded {
  const points: Array<[string, number, number]> = [];
  const skips: ItemSkip[] = [];
  const refusal = decoder.decode(frame, 0, frame.length, now, {
    point: (n, t, v) => points.push([n, t, v]),
    skip: (r) => skips.push(r),
  });
  return { refusal, detail: decoder.lastDetail, points, skips };
}

export interface OracleResult {
  ok: boolean;
  error?: string;
  points?: Array<[string, string, string]>;
  skipped?: number;
}

export function goldenFrames(): Array<{ name: string; frame: Buffer }> {
  const r = spawnSync(DEBIAN_PYTHON, [join(here, 'make_frames.py')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`make_frames.py failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Array<{ name: string; hex: string }>).map((f) => ({ name: f.name, frame: Buffer.from(f.hex, 'hex') }));
}

/** Decodes every frame with carbon's SafeUnpickler and the receiver's item rules. */
export function carbonDecode(frames: readonly Buffer[], now: number): OracleResult[] {
  const input = JSON.stringify({ now, frames: frames.map((f) => f.toString('hex')) });
  const r = spawnSync(DEBIAN_PYTHON, [join(here, 'carbon_oracle.py')], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`carbon_oracle.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as OracleResult[];
}

/** Python's repr() of a float, as the oracle writes it, parsed back to a number. */
export function fromRepr(s: string): number {
  if (s === 'nan') return NaN;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}
