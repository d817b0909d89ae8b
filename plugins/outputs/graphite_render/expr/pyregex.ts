/**
 * Python `re` → JavaScript RegExp, for the patterns graphite functions take (aliasSub, grep,
 * exclude, useSeriesAbove). Grafana sends `aliasSub(t, "(^.*$)", "\1 A")`, so replacement
 * templates must follow Python's rules: `\1`…`\99`, `\g<1>`, `\g<name>`, `\n`-style escapes.
 */
import { badArgs } from './errors.js';
import { runWithTimeLimit, translatePythonRegex } from '../../../../core/index.js';

/** a Python pattern as a RegExp (see translatePythonRegex); refused patterns are a 400 */
export function pyRegex(pattern: string, global = false): RegExp {
  let re: RegExp;
  try {
    const { source, flags } = translatePythonRegex(pattern);
    re = new RegExp(source, global ? `g${flags}` : flags);
  } catch (err) {
    throw badArgs(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  return re;
}

type Part = string | { group: number | string };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** parses a Python replacement template into literal text and group references */
export function parseReplacement(repl: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i]!;
    if (c !== '\\' || i + 1 >= repl.length) {
      lit += c;
      continue;
    }
    const n = repl[i + 1]!;
    if (n === 'g') {
      const m = /^<([^>]*)>/.exec(repl.slice(i + 2));
      if (!m) throw badArgs('bad group reference in replacement: missing <');
      const ref = m[1]!;
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ group: /^\d+$/.test(ref) ? Number(ref) : ref });
      i += 2 + m[0].length - 1;
    } else if (/\d/.test(n)) {
      let digits = n;
      if (/\d/.test(repl[i + 2] ?? '')) digits += repl[i + 2];
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ group: Number(digits) });
      i += digits.length;
    } else if (Object.hasOwn(ESCAPES, n)) {
      lit += ESCAPES[n];
      i++;
    } else if (/[A-Za-z]/.test(n)) {
      throw badArgs(`bad escape \\${n} in replacement`);
    } else {
      // unknown escapes of punctuation stay as written, as in Python
      lit += c + n;
      i++;
    }
  }
  if (lit) parts.push(lit);
  return parts;
}

/**
 * Python re.sub(pattern, repl, ·) compiled once: every match replaced, unmatched groups become ''.
 * Compile per function call, then apply to each series name.
 */
export function compileSub(pattern: string, repl: string): (s: string) => string {
  const re = pyRegex(pattern, true);
  const parts = parseReplacement(repl);
  return (s) => {
    re.lastIndex = 0;
    return s.replace(re, (...m: unknown[]) => {
      const hasNamed = typeof m[m.length - 1] === 'object' && m[m.length - 1] !== null;
      const groupsObj = (hasNamed ? m[m.length - 1] : undefined) as Record<string, string | undefined> | undefined;
      const nGroups = m.length - (hasNamed ? 3 : 2);
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else if (typeof p.group === 'number') {
          if (p.group >= nGroups) throw badArgs(`invalid group reference ${p.group}`);
          out += (m[p.group] as string | undefined) ?? '';
        } else {
          if (!groupsObj || !(p.group in groupsObj)) throw badArgs(`unknown group name '${p.group}'`);
          out += groupsObj[p.group] ?? '';
        }
      }
      return out;
    });
  };
}

/** one-off re.sub */
export function pySub(pattern: string, repl: string, s: string): string {
  return compileSub(pattern, repl)(s);
}

/** Python re.search(pattern, ·) compiled once */
export function compileSearch(pattern: string): (s: string) => boolean {
  const re = pyRegex(pattern);
  return (s) => re.test(s);
}

export function pySearch(pattern: string, s: string): boolean {
  return compileSearch(pattern)(s);
}

/**
 * re.search over every name, within REGEX_TIME_LIMIT_MS (a backtracking pattern is refused with a
 * 422 instead of holding the event loop: see runWithTimeLimit)
 */
export function searchAll(pattern: string, names: readonly string[]): boolean[] {
  const match = compileSearch(pattern);
  return runWithTimeLimit(`the regular expression ${JSON.stringify(pattern.slice(0, 100))}`, () => names.map(match));
}

/** re.sub over every name, within REGEX_TIME_LIMIT_MS (see searchAll) */
export function subAll(pattern: string, repl: string, names: readonly string[]): string[] {
  const sub = compileSub(pattern, repl);
  return runWithTimeLimit(`the regular expression ${JSON.stringify(pattern.slice(0, 100))}`, () => names.map(sub));
}
