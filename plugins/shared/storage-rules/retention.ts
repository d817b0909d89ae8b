import type { ArchiveSpec } from '../whisper-format/header.js';

/** carbon 1.1.7's unit table: one letter only (`1min` is an error in carbon, so it is here). */
const CARBON_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** whisper's CLI unit table, matched by prefix (`s`, `sec`, `min`, `hours`, …). */
const WHISPER_UNITS: Array<[string, number]> = [
  ['seconds', 1],
  ['minutes', 60],
  ['hours', 3600],
  ['days', 86400],
  ['weeks', 604800],
  ['years', 31536000],
];

export class RetentionSyntaxError extends Error {
  override name = 'RetentionSyntaxError';
}

const NUM_UNIT = /^(\d+)([a-z]+)$/;
const DIGITS = /^\d+$/;

/**
 * carbon's parseRetentionDef: `precision:duration`, each a bare integer (seconds / point count)
 * or an integer with a one-letter unit; a duration with a unit becomes seconds / precision,
 * truncated. Throws RetentionSyntaxError where carbon raises ValueError (and exits).
 */
export function parseCarbonRetention(def: string): ArchiveSpec {
  return parseWith(def, (u) => CARBON_UNITS[u]);
}

/** whisper's parseRetentionDef (whisper-create, whisper-resize): units may be any prefix. */
export function parseWhisperRetention(def: string): ArchiveSpec {
  return parseWith(def, (u) => WHISPER_UNITS.find(([name]) => name.startsWith(u))?.[1]);
}

function parseWith(def: string, unit: (u: string) => number | undefined): ArchiveSpec {
  const parts = def.trim().split(':');
  if (parts.length !== 2) throw new RetentionSyntaxError(`Invalid retention definition '${def.trim()}' (expected precision:duration)`);
  const [p, d] = parts as [string, string];
  let precision: number;
  if (DIGITS.test(p)) precision = Number(p);
  else {
    const m = NUM_UNIT.exec(p);
    if (!m) throw new RetentionSyntaxError(`Invalid precision specification '${p}'`);
    const mult = unit(m[2]!);
    if (mult === undefined) throw new RetentionSyntaxError(`Invalid unit '${m[2]}'`);
    precision = Number(m[1]) * mult;
  }
  let points: number;
  if (DIGITS.test(d)) points = Number(d);
  else {
    const m = NUM_UNIT.exec(d);
    if (!m) throw new RetentionSyntaxError(`Invalid retention specification '${d}'`);
    const mult = unit(m[2]!);
    if (mult === undefined) throw new RetentionSyntaxError(`Invalid unit '${m[2]}'`);
    if (precision === 0) throw new RetentionSyntaxError(`Invalid precision specification '${p}'`);
    points = Math.trunc((Number(m[1]) * mult) / precision);
  }
  return [precision, points];
}

/** `10s:6h,1m:7d` → archives (carbon's parser, as storage-schemas.conf uses). */
export function parseCarbonRetentions(list: string): ArchiveSpec[] {
  return list.split(',').map(parseCarbonRetention);
}
