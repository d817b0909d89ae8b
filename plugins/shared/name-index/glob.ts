/**
 * graphite-web's per-node glob (finders/__init__.py, standard.py): braces are expanded first,
 * innermost group at a time, duplicates merged; each variant is then a shell pattern as Python's
 * fnmatch reads it (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`; an unclosed `[` is literal;
 * case-sensitive). A node with none of `*?[` is an exact name.
 */
import { PatternTooBroad } from '../../../core/index.js';

const BRACES = /\{([^{}]*)\}/;

/**
 * Strings one node's brace groups may expand through. Groups multiply (graphite-web expands them
 * without a bound: 21 `{a,b}` groups took 6 s here, seven `{0,…,9}` 17 s and 780 MB); a Grafana
 * multi-value variable is one group of a few hundred.
 */
export const MAX_BRACE_EXPANSIONS = 100_000;

export function expandBraces(s: string): string[] {
  const budget = { left: MAX_BRACE_EXPANSIONS };
  return expand(s, budget);
}

function expand(s: string, budget: { left: number }): string[] {
  const m = BRACES.exec(s);
  if (!m) {
    // counted as reached, repeats too: `{x,x}` groups merge only after the walk
    if (--budget.left < 0) throw new PatternTooBroad(`the pattern's brace groups expand to more than ${MAX_BRACE_EXPANSIONS} variants: narrow it`);
    return [s];
  }
  const out = new Set<string>();
  const head = s.slice(0, m.index);
  const tail = s.slice(m.index + m[0].length);
  for (const alt of m[1]!.split(',')) for (const v of expand(head + alt + tail, budget)) out.add(v);
  return [...out];
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?') || s.includes('[');
}

/**
 * For a `[` just before index i: the index of the `]` closing its class (fnmatch: a `!` and then a
 * `]` right after the `[` are part of the class), or -1 when none does (the `[` is literal).
 */
function classEnds(pat: string): (i: number) => number {
  const n = pat.length;
  // the first `]` at or after each index, in one pass from the end (a scan per `[` was quadratic)
  const nextClose = new Int32Array(n + 1).fill(-1);
  for (let k = n - 1; k >= 0; k--) nextClose[k] = pat[k] === ']' ? k : nextClose[k + 1]!;
  return (i) => {
    let j = i;
    if (j < n && pat[j] === '!') j++;
    if (j < n && pat[j] === ']') j++;
    return nextClose[j]!;
  };
}

/**
 * Python fnmatch.translate, for one node (so `*` never needs to stop at a dot). A run of `*` and
 * `?` becomes one `.{k,}` (k the `?`s), which matches the same names: `.*..*..*.` backtracked
 * as (name length)^k on 64-character hashed names (`*?*?*?*?Z`: 26 s).
 */
export function fnmatchToRegExp(pat: string): RegExp {
  let re = '';
  const n = pat.length;
  const classEnd = classEnds(pat);
  let i = 0;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*' || c === '?') {
      let ones = c === '?' ? 1 : 0;
      let star = c === '*';
      while (i < n && (pat[i] === '*' || pat[i] === '?')) {
        if (pat[i] === '?') ones++;
        else star = true;
        i++;
      }
      re += star ? (ones === 0 ? '.*' : `.{${ones},}`) : ones === 1 ? '.' : `.{${ones}}`;
    } else if (c === '[') {
      const j = classEnd(i);
      if (j < 0) {
        re += '\\[';
      } else {
        let body = pat.slice(i, j);
        i = j + 1;
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        body = body.replace(/\\/g, '\\\\');
        re += `[${body}]`;
      }
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  try {
    const compiled = new RegExp(`^(?:${re})$`, 's');
    compiled.test(''); // V8 compiles at the first match: a size it refuses throws here, not in a find
    return compiled;
  } catch (err) {
    // every translation is a valid regex; only its size can be refused (100,000 `[`)
    throw new PatternTooBroad(`a pattern node too long to match (${n} characters): ${(err as Error).message.slice(-60)}`);
  }
}

/** One node's shell pattern, compiled: `test(name)` as fnmatchToRegExp(pat).test(name) answers. */
export interface GlobMatcher {
  test(name: string): boolean;
}

/** a pattern element: one character, any one character, a `[…]` class, or `*` */
type GlobToken = { readonly kind: 'char'; readonly code: number } | { readonly kind: 'one' } | { readonly kind: 'class'; readonly re: RegExp } | { readonly kind: 'star' };

/**
 * fnmatch's pattern, matched without a regex: a regex for `*a*a*a*a*b` backtracks as (name
 * length)^5 (2.6 s per 64-character name here, 23 s with six stars, and the event loop held all
 * along); Python 3.11's translate makes such runs atomic. The classic greedy match (on a
 * mismatch, go back to the last `*` and let it take one more character) is O(name × pattern)
 * for any pattern and gives the same answers. Characters are UTF-16 units, as the regex's were.
 */
export function compileGlob(pat: string): GlobMatcher {
  const tokens: GlobToken[] = [];
  const n = pat.length;
  const classEnd = classEnds(pat);
  let i = 0;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '[') {
      const j = classEnd(i);
      if (j < 0) tokens.push({ kind: 'char', code: 91 /* [ */ });
      else {
        // one class tests one character: no backtracking is possible in it
        tokens.push({ kind: 'class', re: fnmatchToRegExp(pat.slice(i - 1, j + 1)) });
        i = j + 1;
      }
    } else tokens.push({ kind: 'char', code: c.charCodeAt(0) });
  }
  const m = tokens.length;
  if (tokens.every((t) => t.kind === 'char')) return { test: (name) => name === pat };
  return {
    test(name: string): boolean {
      let p = 0;
      let s = 0;
      let starP = -1;
      let starS = 0;
      const len = name.length;
      while (s < len) {
        const t = p < m ? tokens[p]! : undefined;
        if (t !== undefined && t.kind !== 'star' && (t.kind === 'one' || (t.kind === 'char' ? name.charCodeAt(s) === t.code : t.re.test(name[s]!)))) {
          p++;
          s++;
        } else if (t !== undefined && t.kind === 'star') {
          starP = p++;
          starS = s;
        } else if (starP >= 0) {
          p = starP + 1;
          s = ++starS;
        } else return false;
      }
      while (p < m && tokens[p]!.kind === 'star') p++;
      return p === m;
    },
  };
}

/** A compiled node pattern: exact names to look up, and patterns to test children against. */
export interface NodeMatcher {
  readonly exact: readonly string[];
  readonly globs: readonly GlobMatcher[];
  /** the node is `**`: any depth */
  readonly globstar: boolean;
}

export function compileNode(node: string): NodeMatcher {
  if (node === '**') return { exact: [], globs: [], globstar: true };
  const exact: string[] = [];
  const globs: GlobMatcher[] = [];
  for (const v of expandBraces(node)) {
    if (hasWildcard(v)) globs.push(compileGlob(v));
    else exact.push(v);
  }
  return { exact, globs, globstar: false };
}
